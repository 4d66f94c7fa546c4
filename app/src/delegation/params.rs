use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DelegationParams {
    /// Validator-set changes (and, later, consumer packets and AVS reward
    /// rounds) happen when height % blocks_per_epoch == 0.
    pub blocks_per_epoch: u64,
    /// Size of the provider's validator set.
    pub max_validators: u32,
    /// Native tokens per unit of CometBFT voting power.
    pub power_reduction: u128,
}

impl Default for DelegationParams {
    fn default() -> Self {
        DelegationParams { blocks_per_epoch: 100, max_validators: 100, power_reduction: 1_000_000 }
    }
}

impl DelegationParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.blocks_per_epoch == 0 {
            return Err("blocks_per_epoch must be positive".into());
        }
        if self.max_validators == 0 {
            return Err("max_validators must be positive".into());
        }
        if self.power_reduction == 0 {
            return Err("power_reduction must be positive".into());
        }
        Ok(())
    }
}
