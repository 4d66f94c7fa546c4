use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IbcParams {
    /// How many of this chain's own recent consensus states are kept for
    /// counterparties' connection handshakes (x/staking's
    /// `historical_entries`).
    pub historical_entries: u64,
    /// Used to turn a connection's delay period into a block delay
    /// (ibc-go's `max_expected_time_per_block`).
    pub max_expected_time_per_block_seconds: u64,
}

impl Default for IbcParams {
    /// ibc-go's and the Cosmos SDK's defaults.
    fn default() -> Self {
        IbcParams { historical_entries: 10_000, max_expected_time_per_block_seconds: 30 }
    }
}

impl IbcParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.historical_entries == 0 {
            return Err("historical_entries must be positive: connection handshakes need this chain's recent consensus states".into());
        }
        if self.max_expected_time_per_block_seconds == 0 {
            return Err("max_expected_time_per_block_seconds must be positive".into());
        }
        Ok(())
    }
}
