use crate::error::ErrorCode;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RestakingError {
    #[error("no strategy accepts denom {denom}")]
    UnknownStrategy { denom: String },
    #[error("deposit of {amount}{denom} exceeds the strategy's cap: pool holds {tvl}, cap {cap}")]
    CapExceeded { denom: String, amount: u128, tvl: u128, cap: u128 },
    #[error("deposit of {amount}{denom} is too small to mint a share at the pool's rate")]
    ZeroShares { denom: String, amount: u128 },
    #[error("insufficient shares of {denom}: have {have}, want {want}")]
    InsufficientShares { denom: String, have: u128, want: u128 },
    #[error("withdrawal {id} does not exist")]
    UnknownWithdrawal { id: u64 },
    #[error("withdrawal {id} belongs to {owner}, not {signer}")]
    NotWithdrawalOwner { id: u64, owner: String, signer: String },
    #[error("withdrawal {id} is still in escrow: completable at {completable_at} (block time {now}), {left}s left")]
    WithdrawalNotReady { id: u64, completable_at: i64, now: i64, left: i64 },
    #[error("strategy for {denom} already exists")]
    StrategyExists { denom: String },
    #[error("{signer} is not the restaking authority {authority}")]
    NotAuthority { signer: String, authority: String },
    #[error("invalid withdrawal request: {0}")]
    InvalidWithdrawal(String),
    #[error("arithmetic overflow: {0}")]
    Overflow(String),
    #[error("operator {operator} is fully slashed in {denom}: it cannot take new stake")]
    FullySlashed { operator: String, denom: String },
    #[error("invalid amount {0:?}: expected a decimal integer")]
    InvalidNumber(String),
    #[error("invariant broken: {0}")]
    Invariant(String),
}

impl ErrorCode for RestakingError {
    fn codespace(&self) -> &'static str {
        "restaking"
    }

    fn code(&self) -> u32 {
        use RestakingError::*;
        match self {
            UnknownStrategy { .. } => 2,
            CapExceeded { .. } => 3,
            ZeroShares { .. } => 4,
            InsufficientShares { .. } => 5,
            UnknownWithdrawal { .. } => 6,
            NotWithdrawalOwner { .. } => 7,
            WithdrawalNotReady { .. } => 8,
            StrategyExists { .. } => 9,
            NotAuthority { .. } => 10,
            InvalidWithdrawal(_) => 11,
            Overflow(_) => 12,
            FullySlashed { .. } => 13,
            InvalidNumber(_) => 14,
            Invariant(_) => 15,
        }
    }
}
