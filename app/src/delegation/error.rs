use crate::error::ErrorCode;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DelegationError {
    #[error("{address} is not a registered operator")]
    NotAnOperator { address: String },
    #[error("{address} is already a registered operator")]
    AlreadyOperator { address: String },
    #[error("{staker} is already delegated to {operator}; undelegate or redelegate first")]
    AlreadyDelegated { staker: String, operator: String },
    #[error("{staker} is not delegated")]
    NotDelegated { staker: String },
    #[error("operator {operator} cannot undelegate from itself")]
    OperatorSelfUndelegation { operator: String },
    #[error("commission rate {rate_bps}bps exceeds the maximum {max_bps}bps")]
    CommissionAboveMax { rate_bps: u32, max_bps: u32 },
    #[error("commission change of {change_bps}bps exceeds the maximum daily change {max_change_bps}bps")]
    CommissionChangeTooLarge { change_bps: u32, max_change_bps: u32 },
    #[error("commission was changed at {last}; the next change is allowed at {next} (block time {now})")]
    CommissionChangeTooSoon { last: i64, next: i64, now: i64 },
    #[error("invalid commission: {0}")]
    InvalidCommission(String),
    #[error("invalid consensus key: {0}")]
    InvalidConsensusKey(String),
    #[error("consensus key {key} is already used by operator {operator}")]
    ConsensusKeyInUse { key: String, operator: String },
    #[error("operator {operator} already has consensus key {key}")]
    ConsensusKeyAlreadySet { operator: String, key: String },
    #[error("metadata field {field} is {len} bytes, max {max}")]
    MetadataTooLong { field: &'static str, len: usize, max: usize },
    #[error("{staker} is already delegated to {operator}")]
    SameOperator { staker: String, operator: String },
}

impl ErrorCode for DelegationError {
    fn codespace(&self) -> &'static str {
        "delegation"
    }

    fn code(&self) -> u32 {
        use DelegationError::*;
        match self {
            NotAnOperator { .. } => 2,
            AlreadyOperator { .. } => 3,
            AlreadyDelegated { .. } => 4,
            NotDelegated { .. } => 5,
            OperatorSelfUndelegation { .. } => 6,
            CommissionAboveMax { .. } => 7,
            CommissionChangeTooLarge { .. } => 8,
            CommissionChangeTooSoon { .. } => 9,
            InvalidCommission(_) => 10,
            InvalidConsensusKey(_) => 11,
            ConsensusKeyInUse { .. } => 12,
            ConsensusKeyAlreadySet { .. } => 13,
            MetadataTooLong { .. } => 14,
            SameOperator { .. } => 15,
        }
    }
}
