use crate::error::ErrorCode;

/// Errors specific to auth; generic ones (sequence, signature, fee) are
/// `SdkError`s with the Cosmos SDK's codes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("genesis: duplicate account {0}")]
    DuplicateGenesisAccount(String),
    #[error("invalid params: {0}")]
    InvalidParams(String),
}

impl ErrorCode for AuthError {
    fn codespace(&self) -> &'static str {
        "auth"
    }

    fn code(&self) -> u32 {
        match self {
            AuthError::DuplicateGenesisAccount(_) => 2,
            AuthError::InvalidParams(_) => 3,
        }
    }
}
