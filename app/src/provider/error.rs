use crate::error::ErrorCode;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("consumer {consumer_id} does not exist")]
    UnknownConsumer { consumer_id: u64 },
    #[error("{signer} is not the owner of consumer {consumer_id} (owner {owner})")]
    NotOwner { signer: String, owner: String, consumer_id: u64 },
    #[error("invalid consumer parameters: {0}")]
    InvalidParameters(String),
    #[error("chain id {chain_id} is already used by consumer {consumer_id}")]
    ChainIdInUse { chain_id: String, consumer_id: u64 },
    #[error("consumer {consumer_id} is {phase}: {action} needs it {needed}")]
    WrongPhase { consumer_id: u64, phase: String, action: &'static str, needed: &'static str },
    #[error("operator {operator} is on the deny list of consumer {consumer_id}")]
    Denied { operator: String, consumer_id: u64 },
    #[error("operator {operator} is not on the allow list of consumer {consumer_id}")]
    NotAllowed { operator: String, consumer_id: u64 },
    #[error("operator {operator} has not opted in to consumer {consumer_id}")]
    NotOptedIn { operator: String, consumer_id: u64 },
    #[error("operator {operator} has already opted in to consumer {consumer_id}")]
    AlreadyOptedIn { operator: String, consumer_id: u64 },
    #[error("invalid consumer key {key:?}: {reason}")]
    InvalidKey { key: String, reason: String },
    #[error("consumer key {address} is already used on consumer {consumer_id} by operator {owner}")]
    KeyInUse { address: String, consumer_id: u64, owner: String },
    #[error("consumer key {address} is the provider consensus key of operator {owner}")]
    KeyIsProviderKey { address: String, owner: String },
    #[error("{have} consumer chains exist, the maximum is {max}")]
    TooManyConsumers { have: u64, max: u32 },
    #[error("consumer {consumer_id} has not launched: no genesis yet")]
    NotLaunched { consumer_id: u64 },
    #[error("invalid CCV channel: {0}")]
    InvalidChannel(String),
    #[error("invalid provider params: {0}")]
    InvalidParams(String),
}

impl ErrorCode for ProviderError {
    fn codespace(&self) -> &'static str {
        "provider"
    }

    fn code(&self) -> u32 {
        use ProviderError::*;
        match self {
            UnknownConsumer { .. } => 2,
            NotOwner { .. } => 3,
            InvalidParameters(_) => 4,
            ChainIdInUse { .. } => 5,
            WrongPhase { .. } => 6,
            Denied { .. } => 7,
            NotAllowed { .. } => 8,
            NotOptedIn { .. } => 9,
            AlreadyOptedIn { .. } => 10,
            InvalidKey { .. } => 11,
            KeyInUse { .. } => 12,
            KeyIsProviderKey { .. } => 13,
            TooManyConsumers { .. } => 14,
            NotLaunched { .. } => 15,
            InvalidChannel(_) => 16,
            InvalidParams(_) => 17,
        }
    }
}
