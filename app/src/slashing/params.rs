use serde::{Deserialize, Serialize};

use crate::math::WAD;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlashingParams {
    /// Blocks over which a provider validator's liveness is judged.
    pub signed_blocks_window: u64,
    /// Fraction (WAD) of the window a validator must sign.
    pub min_signed_per_window: u128,
    pub downtime_jail_duration_seconds: u64,
    /// Fractions (WAD) of the native stake taken for each fault.
    pub slash_fraction_double_sign: u128,
    pub slash_fraction_downtime: u128,
    /// Most magnitude (WAD) all AVSs together may slash from one operator
    /// in one strategy within one epoch.
    pub max_slash_per_epoch: u128,
}

impl Default for SlashingParams {
    /// The Cosmos Hub's values for the consensus faults.
    fn default() -> Self {
        SlashingParams {
            signed_blocks_window: 10_000,
            min_signed_per_window: WAD / 20,
            downtime_jail_duration_seconds: 600,
            slash_fraction_double_sign: WAD / 20,
            slash_fraction_downtime: WAD / 10_000,
            max_slash_per_epoch: WAD / 2,
        }
    }
}

impl SlashingParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.signed_blocks_window == 0 {
            return Err("signed_blocks_window must be positive".into());
        }
        for (name, v) in [
            ("min_signed_per_window", self.min_signed_per_window),
            ("slash_fraction_double_sign", self.slash_fraction_double_sign),
            ("slash_fraction_downtime", self.slash_fraction_downtime),
            ("max_slash_per_epoch", self.max_slash_per_epoch),
        ] {
            if v > WAD {
                return Err(format!("{name} {v} exceeds 10^18 (100%)"));
            }
        }
        if self.downtime_jail_duration_seconds > i64::MAX as u64 / 2 {
            return Err(format!("downtime_jail_duration_seconds {} is too large", self.downtime_jail_duration_seconds));
        }
        Ok(())
    }

    /// Most blocks a validator may miss in a window (x/slashing's rule).
    pub fn max_missed(&self) -> u64 {
        let min_signed = crate::math::mul_wad_down(self.signed_blocks_window as u128, self.min_signed_per_window).unwrap_or(0) as u64;
        self.signed_blocks_window - min_signed
    }
}
