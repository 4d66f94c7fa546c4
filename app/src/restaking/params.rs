use serde::{Deserialize, Serialize};

use crate::types::Address;

/// Seven days: the default escrow of a queued withdrawal.
pub const DEFAULT_WITHDRAWAL_DELAY: u64 = 7 * 24 * 3600;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestakingParams {
    /// Escrow of a queued withdrawal, in seconds of block time.
    pub withdrawal_delay_seconds: u64,
    /// The chain authority: may create strategies. Defaults to the `gov`
    /// module address, which no key controls.
    pub authority: Address,
}

impl Default for RestakingParams {
    fn default() -> Self {
        RestakingParams { withdrawal_delay_seconds: DEFAULT_WITHDRAWAL_DELAY, authority: Address::module("gov") }
    }
}
