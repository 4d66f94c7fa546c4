use crate::error::ErrorCode;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AvsError {
    #[error("AVS {avs_id} does not exist")]
    UnknownAvs { avs_id: u64 },
    #[error("{signer} is not the owner of AVS {avs_id} (owner {owner})")]
    NotAvsOwner { avs_id: u64, owner: String, signer: String },
    #[error("operator set {avs_id}/{set_id} does not exist")]
    UnknownOperatorSet { avs_id: u64, set_id: u32 },
    #[error("operator set {avs_id}/{set_id} already exists")]
    OperatorSetExists { avs_id: u64, set_id: u32 },
    #[error("invalid operator set: {0}")]
    InvalidOperatorSet(String),
    #[error("operator {operator} is not on the allowlist of operator set {avs_id}/{set_id}")]
    NotAllowlisted { operator: String, avs_id: u64, set_id: u32 },
    #[error("operator {operator} is already registered for operator set {avs_id}/{set_id}")]
    AlreadyRegistered { operator: String, avs_id: u64, set_id: u32 },
    #[error("operator {operator} is not registered for operator set {avs_id}/{set_id}")]
    NotRegistered { operator: String, avs_id: u64, set_id: u32 },
    #[error("operator set {avs_id}/{set_id} does not accept strategy {denom}")]
    StrategyNotInSet { avs_id: u64, set_id: u32, denom: String },
    #[error("invalid magnitude {0}: a WAD integer between 0 and 10^18")]
    InvalidMagnitude(String),
    #[error("operator {operator} has {available} {denom} magnitude unallocated (max {max}, encumbered {encumbered}); the allocation needs {requested}")]
    InsufficientMagnitude { operator: String, denom: String, max: u128, encumbered: u128, available: u128, requested: u128 },
    #[error("allocation of {operator} to {avs_id}/{set_id} in {denom} has a change pending until {effective_at}")]
    ModificationPending { operator: String, avs_id: u64, set_id: u32, denom: String, effective_at: i64 },
    #[error("allocation of {operator} to {avs_id}/{set_id} in {denom} is already {magnitude}")]
    SameMagnitude { operator: String, avs_id: u64, set_id: u32, denom: String, magnitude: u128 },
    #[error("allocation {avs_id}/{set_id}/{denom} appears twice in one message")]
    DuplicateAllocation { avs_id: u64, set_id: u32, denom: String },
    #[error("{field} is {len} bytes, max {max}")]
    FieldTooLong { field: &'static str, len: usize, max: usize },
    #[error("invalid avs params: {0}")]
    InvalidParams(String),
    #[error("invariant broken: {0}")]
    Invariant(String),
}

impl ErrorCode for AvsError {
    fn codespace(&self) -> &'static str {
        "avs"
    }

    fn code(&self) -> u32 {
        use AvsError::*;
        match self {
            UnknownAvs { .. } => 2,
            NotAvsOwner { .. } => 3,
            UnknownOperatorSet { .. } => 4,
            OperatorSetExists { .. } => 5,
            InvalidOperatorSet(_) => 6,
            NotAllowlisted { .. } => 7,
            AlreadyRegistered { .. } => 8,
            NotRegistered { .. } => 9,
            StrategyNotInSet { .. } => 10,
            InvalidMagnitude(_) => 11,
            InsufficientMagnitude { .. } => 12,
            ModificationPending { .. } => 13,
            SameMagnitude { .. } => 14,
            DuplicateAllocation { .. } => 15,
            FieldTooLong { .. } => 16,
            InvalidParams(_) => 17,
            Invariant(_) => 18,
        }
    }
}
