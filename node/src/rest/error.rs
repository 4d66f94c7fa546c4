//! Errors in grpc-gateway's shape: `{"code": <gRPC code>, "message": "...",
//! "details": []}` with the HTTP status grpc-gateway maps the code to.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tonic::Code;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestError {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
}

impl RestError {
    /// An error with the HTTP status grpc-gateway gives `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        RestError { status: http_status(code), code, message: message.into() }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Code::Internal, message)
    }

    /// The Cosmos SDK's answer to a path no route serves: gRPC
    /// Unimplemented, HTTP 501 (its gateway's protoErrorHandler).
    pub fn not_implemented() -> Self {
        Self::new(Code::Unimplemented, "Not Implemented")
    }

    /// A served path asked with another HTTP method (also 501 in the SDK).
    pub fn method_not_allowed() -> Self {
        Self::new(Code::Unimplemented, "Method Not Allowed")
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        RestError { status: StatusCode::PAYLOAD_TOO_LARGE, code: Code::ResourceExhausted, message: message.into() }
    }

    /// The JSON body, keys in the gateway's order.
    pub fn body(&self) -> String {
        format!(r#"{{"code":{},"message":{},"details":[]}}"#, self.code as i32, serde_json::Value::String(self.message.clone()))
    }
}

impl From<tonic::Status> for RestError {
    fn from(s: tonic::Status) -> Self {
        RestError::new(s.code(), s.message())
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        (self.status, [(axum::http::header::CONTENT_TYPE, "application/json")], self.body()).into_response()
    }
}

/// grpc-gateway's `HTTPStatusFromCode`.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::REQUEST_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}
