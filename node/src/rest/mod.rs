//! The REST (LCD) API of `aegisd start`: the Cosmos SDK's grpc-gateway
//! routes, served by one transcoder that reads each RPC's `google.api.http`
//! rule from the descriptor set (`aegis_proto::FILE_DESCRIPTOR_SET`) and
//! forwards the call to the node's own gRPC server. A service that gains
//! annotations gains routes; nothing here names a service.

pub mod error;
pub mod json;
pub mod route;
pub mod transcode;
pub mod upstream;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::transport::Channel;
use tracing::info;

pub use error::RestError;
use route::{Lookup, RouteTable};

/// Largest request body accepted: a tx of up to 1 MiB, base64-encoded in
/// JSON, with room for the envelope.
pub const MAX_BODY_BYTES: usize = 1024 * 1024 * 4 / 3 + 64 * 1024;

/// What the gateway needs: where gRPC is and who may call it cross-origin.
#[derive(Clone, Debug)]
pub struct RestConfig {
    pub listen: SocketAddr,
    pub grpc: SocketAddr,
    /// Origins answered with CORS headers; `*` allows all, empty none.
    pub cors_allowed_origins: Vec<String>,
}

pub struct Gateway {
    routes: RouteTable,
    pool: DescriptorPool,
    channel: Channel,
    cors: Vec<String>,
}

impl Gateway {
    /// Routes from the node's descriptor set; the gRPC channel connects on
    /// first use.
    pub fn new(grpc: SocketAddr, cors_allowed_origins: Vec<String>) -> anyhow::Result<Self> {
        let pool = crate::descriptors::pool().clone();
        let routes = RouteTable::from_pool(&pool).map_err(anyhow::Error::msg)?;
        let channel = Channel::from_shared(format!("http://{grpc}"))?.connect_lazy();
        Ok(Gateway { routes, pool, channel, cors: cors_allowed_origins })
    }

    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    pub fn pool(&self) -> &DescriptorPool {
        &self.pool
    }

    pub fn router(self) -> axum::Router {
        axum::Router::new().fallback(handle).with_state(Arc::new(self))
    }

    /// Resolve, transcode, call and answer one request.
    async fn serve_one(&self, method: &Method, path: &str, query: Option<&str>, headers: &HeaderMap, body: Body) -> Result<Response, RestError> {
        let (route, bound) = match self.routes.lookup(method.as_str(), path) {
            Lookup::Found(r, b) => (r, b),
            Lookup::WrongMethod => return Err(RestError::method_not_allowed()),
            Lookup::NotFound => return Err(RestError::not_implemented()),
        };
        let body = read_body(headers, body).await?;
        let request = transcode::build_request(route, &bound, query, &body)?;
        let height = match headers.get(upstream::HEIGHT) {
            Some(v) => Some(v.to_str().map_err(|_| RestError::invalid_argument(format!("{} header is not text", upstream::HEIGHT)))?),
            None => None,
        };
        let reply = upstream::call(&self.channel, &route.grpc_path(), request.encode_to_vec(), height).await?;
        let response = DynamicMessage::decode(route.method.output(), reply.bytes.as_slice())
            .map_err(|e| RestError::internal(format!("decoding {} from the gRPC server: {e}", route.method.output().full_name())))?;
        let json = json::to_json_text(&response)?;
        let mut resp = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], json).into_response();
        // The height the answer is for: the server's, else the one asked for.
        if let Some(h) = reply.height.as_deref().or(height).and_then(|h| HeaderValue::from_str(h).ok()) {
            resp.headers_mut().insert(upstream::HEIGHT, h.clone());
            resp.headers_mut().insert("grpc-metadata-x-cosmos-block-height", h);
        }
        Ok(resp)
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if allowed.
    fn allowed_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        let origin = origin?;
        if self.cors.iter().any(|o| o == "*") {
            return Some(HeaderValue::from_static("*"));
        }
        let text = origin.to_str().ok()?;
        self.cors.iter().any(|o| o == text).then(|| origin.clone())
    }
}

async fn handle(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let allow = gw.allowed_origin(parts.headers.get(header::ORIGIN));
    let mut resp = if parts.method == Method::OPTIONS && allow.is_some() {
        preflight(&parts.headers)
    } else {
        match gw.serve_one(&parts.method, parts.uri.path(), parts.uri.query(), &parts.headers, body).await {
            Ok(r) => r,
            Err(e) => {
                info!(method = %parts.method, path = %parts.uri.path(), code = ?e.code, message = %e.message, "REST request failed");
                e.into_response()
            }
        }
    };
    if let Some(origin) = allow {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("x-cosmos-block-height, grpc-metadata-x-cosmos-block-height"));
    }
    resp
}

/// The answer to a CORS preflight from an allowed origin.
fn preflight(headers: &HeaderMap) -> Response {
    let asked = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned().unwrap_or(HeaderValue::from_static("content-type, x-cosmos-block-height"));
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    resp
}

/// The request body, refused past [`MAX_BODY_BYTES`] before reading it
/// when its length is declared.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, RestError> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > MAX_BODY_BYTES as u64) {
        return Err(RestError::too_large(format!("request body of {n} bytes exceeds the limit of {MAX_BODY_BYTES} bytes")));
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| RestError::too_large(format!("request body exceeds the limit of {MAX_BODY_BYTES} bytes")))
}

/// Serve the gateway on `cfg.listen` until the future is dropped.
pub async fn serve(cfg: RestConfig) -> anyhow::Result<()> {
    let gateway = Gateway::new(cfg.grpc, cfg.cors_allowed_origins)?;
    let n = gateway.routes().routes().len();
    let listener = tokio::net::TcpListener::bind(cfg.listen).await.map_err(|e| anyhow::anyhow!("REST API: binding {}: {e}", cfg.listen))?;
    info!(rest = %cfg.listen, routes = n, "REST (LCD) API listening");
    axum::serve(listener, gateway.router()).await?;
    Ok(())
}
