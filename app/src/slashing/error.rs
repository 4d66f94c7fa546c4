use crate::error::ErrorCode;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlashingError {
    #[error("{signer} is not the slasher of operator set {avs_id}/{set_id} (slasher {slasher})")]
    NotSlasher { signer: String, slasher: String, avs_id: u64, set_id: u32 },
    #[error("operator {operator} is not registered for, and no longer slashable by, operator set {avs_id}/{set_id}")]
    NotSlashable { operator: String, avs_id: u64, set_id: u32 },
    #[error("invalid slash fraction {0}: it must be between 1 and 10^18 (a WAD fraction of the allocation)")]
    InvalidFraction(String),
    #[error("slash of {wad_to_slash} exceeds the allocation: at most 10^18 (all of it) can be slashed")]
    AboveAllocation { wad_to_slash: String },
    #[error("operator {operator} has nothing slashable allocated to operator set {avs_id}/{set_id} in {strategies}")]
    NothingAllocated { operator: String, avs_id: u64, set_id: u32, strategies: String },
    #[error("evidence {evidence_ref:?} was already submitted to AVS {avs_id}")]
    EvidenceReused { avs_id: u64, evidence_ref: String },
    #[error("slashing {requested} more {denom} magnitude from {operator} in epoch {epoch} would exceed the per-epoch cap {cap} ({used} used); retry after height {next_epoch_height}")]
    EpochCapExceeded { operator: String, denom: String, epoch: u64, requested: u128, used: u128, cap: u128, next_epoch_height: u64 },
    #[error("slash {id} does not exist")]
    UnknownSlash { id: u64 },
    #[error("{member} is not on the veto committee of operator set {avs_id}/{set_id}")]
    NotVetoMember { member: String, avs_id: u64, set_id: u32 },
    #[error("the veto window of slash {id} closed at {closed_at} (block time {now})")]
    VetoWindowClosed { id: u64, closed_at: i64, now: i64 },
    #[error("{member} already vetoed slash {id}")]
    AlreadyVetoed { member: String, id: u64 },
    #[error("slash {id} is in its veto window until {executable_at} (block time {now}, {left}s left)")]
    VetoWindowOpen { id: u64, executable_at: i64, now: i64, left: i64 },
    #[error("operator {operator} is not jailed")]
    NotJailed { operator: String },
    #[error("operator {operator} is tombstoned for double-signing and cannot be unjailed")]
    Tombstoned { operator: String },
    #[error("operator {operator} is jailed until {until} (block time {now}, {left}s left)")]
    StillJailed { operator: String, until: i64, now: i64, left: i64 },
    #[error("{field} is {len} bytes, must be 1 to {max}")]
    BadField { field: &'static str, len: usize, max: usize },
    #[error("invalid slashing params: {0}")]
    InvalidParams(String),
    #[error("slash {id} {outcome} at height {height}")]
    SlashResolved { id: u64, outcome: &'static str, height: u64 },
}

impl ErrorCode for SlashingError {
    fn codespace(&self) -> &'static str {
        "slashing"
    }

    fn code(&self) -> u32 {
        use SlashingError::*;
        match self {
            NotSlasher { .. } => 2,
            NotSlashable { .. } => 3,
            InvalidFraction(_) => 4,
            AboveAllocation { .. } => 5,
            NothingAllocated { .. } => 6,
            EvidenceReused { .. } => 7,
            EpochCapExceeded { .. } => 8,
            UnknownSlash { .. } => 9,
            NotVetoMember { .. } => 10,
            VetoWindowClosed { .. } => 11,
            AlreadyVetoed { .. } => 12,
            VetoWindowOpen { .. } => 13,
            NotJailed { .. } => 14,
            Tombstoned { .. } => 15,
            StillJailed { .. } => 16,
            BadField { .. } => 17,
            InvalidParams(_) => 18,
            SlashResolved { .. } => 19,
        }
    }
}
