use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardsParams {
    /// Yearly inflation of the native supply, basis points.
    pub inflation_rate_bps: u32,
    /// Blocks per year the provision is spread over (5 s blocks: 6,311,520).
    pub blocks_per_year: u64,
}

impl Default for RewardsParams {
    fn default() -> Self {
        RewardsParams { inflation_rate_bps: 700, blocks_per_year: 6_311_520 }
    }
}

impl RewardsParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.blocks_per_year == 0 {
            return Err("blocks_per_year must be positive".into());
        }
        if self.inflation_rate_bps > 10_000 {
            return Err(format!("inflation_rate_bps {} exceeds 100%", self.inflation_rate_bps));
        }
        Ok(())
    }
}
