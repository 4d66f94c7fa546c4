use crate::error::ErrorCode;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RewardsError {
    #[error("{address} has no rewards to claim")]
    NothingToClaim { address: String },
    #[error("invalid rewards params: {0}")]
    InvalidParams(String),
    #[error("invariant broken: {0}")]
    Invariant(String),
    #[error("invalid reward submission: {0}")]
    InvalidSubmission(String),
    #[error("operator set {avs_id}/{set_id} already has {count} reward submissions paying out, max {max}")]
    TooManySubmissions { avs_id: u64, set_id: u32, count: u64, max: u64 },
    #[error("commission {bps}bps exceeds operator {operator}'s maximum {max_bps}bps")]
    CommissionAboveMax { operator: String, bps: u32, max_bps: u32 },
}

impl ErrorCode for RewardsError {
    fn codespace(&self) -> &'static str {
        "rewards"
    }

    fn code(&self) -> u32 {
        match self {
            RewardsError::NothingToClaim { .. } => 2,
            RewardsError::InvalidParams(_) => 3,
            RewardsError::Invariant(_) => 4,
            RewardsError::InvalidSubmission(_) => 5,
            RewardsError::TooManySubmissions { .. } => 6,
            RewardsError::CommissionAboveMax { .. } => 7,
        }
    }
}
