use crate::error::ErrorCode;

/// IBC errors. The handler's own error (from ibc-rs) is kept as the
/// message, so a relayer operator sees exactly which check failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IbcError {
    #[error("client error: {0}")]
    Client(String),
    #[error("connection error: {0}")]
    Connection(String),
    #[error("channel error: {0}")]
    Channel(String),
    #[error("routing error: {0}")]
    Router(String),
    #[error("transfer error: {0}")]
    Transfer(String),
    #[error("unknown IBC denom {0}: no denom trace with that hash")]
    UnknownDenomTrace(String),
    #[error("packet {sequence} was never sent on {port}/{channel} (next sequence to send is {next})")]
    PacketNeverSent { port: String, channel: String, sequence: u64, next: u64 },
    #[error("not supported: {0}")]
    NotSupported(String),
    #[error("genesis: {0}")]
    Genesis(String),
}

impl ErrorCode for IbcError {
    fn codespace(&self) -> &'static str {
        "ibc"
    }

    fn code(&self) -> u32 {
        match self {
            IbcError::Client(_) => 2,
            IbcError::Connection(_) => 3,
            IbcError::Channel(_) => 4,
            IbcError::Router(_) => 5,
            IbcError::Transfer(_) => 6,
            IbcError::UnknownDenomTrace(_) => 7,
            IbcError::PacketNeverSent { .. } => 8,
            IbcError::NotSupported(_) => 9,
            IbcError::Genesis(_) => 10,
        }
    }
}

impl From<ibc_core::handler::types::error::HandlerError> for IbcError {
    fn from(e: ibc_core::handler::types::error::HandlerError) -> Self {
        use ibc_core::handler::types::error::HandlerError as H;
        match e {
            H::Client(e) => IbcError::Client(e.to_string()),
            H::Connection(e) => IbcError::Connection(e.to_string()),
            H::Channel(e) => IbcError::Channel(e.to_string()),
            H::Router(e) => IbcError::Router(e.to_string()),
        }
    }
}
