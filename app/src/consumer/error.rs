use crate::error::ErrorCode;

/// Consumer-chain errors (codespace `consumer`). The channel-handshake
/// messages follow ICS's wording (`x/ccv/consumer/ibc_module.go`), so an
/// operator who knows ICS recognises them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsumerError {
    #[error("invalid consumer genesis: {0}")]
    Genesis(String),
    #[error("invalid channel ordering: expected ORDERED channel, got {got}")]
    Ordering { got: String },
    #[error("invalid port: {got}, expected {want}")]
    Port { got: String, want: &'static str },
    #[error("invalid counterparty port: {got}, expected {want}")]
    CounterpartyPort { got: String, want: &'static str },
    #[error("invalid CCV channel version: got {got:?}, expected {want:?}")]
    Version { got: String, want: &'static str },
    #[error("must have direct connection to provider chain: {hops} connection hops, want 1")]
    ConnectionHops { hops: usize },
    #[error("invalid client: {got}, channel must be built on top of client: {want}")]
    WrongClient { got: String, want: String },
    #[error("provider channel: {channel} already established")]
    DuplicateChannel { channel: String },
    #[error("channel handshake must be initiated by consumer chain")]
    InvalidChannelFlow,
    #[error("invalid handshake metadata: {0}")]
    HandshakeMetadata(String),
    #[error("user cannot close channel")]
    CloseRefused,
    #[error("invalid VSC packet: {0}")]
    InvalidPacket(String),
    #[error("the CCV channel {channel} is closed: no validator set changes are accepted")]
    ChannelClosed { channel: String },
    #[error("this chain is not a consumer chain (its genesis has no consumer section)")]
    NotConsumer,
    #[error("connection error: {0}")]
    Connection(String),
}

impl ErrorCode for ConsumerError {
    fn codespace(&self) -> &'static str {
        "consumer"
    }

    fn code(&self) -> u32 {
        use ConsumerError::*;
        match self {
            Genesis(_) => 2,
            Ordering { .. } => 3,
            Port { .. } => 4,
            CounterpartyPort { .. } => 5,
            Version { .. } => 6,
            ConnectionHops { .. } => 7,
            WrongClient { .. } => 8,
            DuplicateChannel { .. } => 9,
            InvalidChannelFlow => 10,
            HandshakeMetadata(_) => 11,
            CloseRefused => 12,
            InvalidPacket(_) => 13,
            ChannelClosed { .. } => 14,
            NotConsumer => 15,
            Connection(_) => 16,
        }
    }
}
