use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AvsParams {
    /// Allocation delay of an operator that has not set its own.
    pub default_allocation_delay_seconds: u64,
    /// How long a decrease or deregistration stays slashable. Never
    /// shorter than the restaking withdrawal delay (checked at genesis).
    pub deallocation_delay_seconds: u64,
    /// How long a change of an operator's allocation delay waits.
    pub allocation_configuration_delay_seconds: u64,
    /// Most strategies one operator set may accept.
    pub max_strategies_per_set: u32,
}

impl Default for AvsParams {
    fn default() -> Self {
        AvsParams {
            default_allocation_delay_seconds: 24 * 3600,
            deallocation_delay_seconds: 7 * 24 * 3600,
            allocation_configuration_delay_seconds: 7 * 24 * 3600,
            max_strategies_per_set: 16,
        }
    }
}

impl AvsParams {
    pub fn validate(&self, withdrawal_delay_seconds: u64) -> Result<(), String> {
        if self.deallocation_delay_seconds < withdrawal_delay_seconds {
            return Err(format!(
                "deallocation_delay_seconds {} is shorter than the withdrawal delay {withdrawal_delay_seconds}",
                self.deallocation_delay_seconds
            ));
        }
        if self.max_strategies_per_set == 0 {
            return Err("max_strategies_per_set must be positive".into());
        }
        for (name, v) in [
            ("default_allocation_delay_seconds", self.default_allocation_delay_seconds),
            ("deallocation_delay_seconds", self.deallocation_delay_seconds),
            ("allocation_configuration_delay_seconds", self.allocation_configuration_delay_seconds),
        ] {
            if v > i64::MAX as u64 / 2 {
                return Err(format!("{name} {v} is too large"));
            }
        }
        Ok(())
    }
}
