use crate::error::ErrorCode;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RewardsError {
    #[error("{address} has no rewards to claim")]
    NothingToClaim { address: String },
    #[error("invalid rewards params: {0}")]
    InvalidParams(String),
    #[error("invariant broken: {0}")]
    Invariant(String),
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
        }
    }
}
