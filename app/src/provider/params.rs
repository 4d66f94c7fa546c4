use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderParams {
    /// Timeout of a VSC packet, from the block that sends it (ICS's
    /// `ccv_timeout_period`, 4 weeks). A VSC packet that times out closes
    /// the ordered channel and stops the consumer.
    pub vsc_timeout_seconds: u64,
    /// Most consumer chains that may exist (registered, launched or
    /// stopped) at once: bounds what an epoch end may have to look at.
    pub max_consumers: u32,
    /// Trusting period of the provider's client of a consumer, as a
    /// fraction (numerator/denominator) of the consumer's unbonding period.
    pub trusting_period_numerator: u64,
    pub trusting_period_denominator: u64,
    /// Clock drift the provider's client of a consumer allows.
    pub max_clock_drift_seconds: u64,
}

impl Default for ProviderParams {
    fn default() -> Self {
        ProviderParams {
            vsc_timeout_seconds: 28 * 24 * 3600,
            max_consumers: 100,
            trusting_period_numerator: 2,
            trusting_period_denominator: 3,
            max_clock_drift_seconds: 10,
        }
    }
}

impl ProviderParams {
    pub fn validate(&self) -> Result<(), String> {
        if self.vsc_timeout_seconds == 0 || self.vsc_timeout_seconds > i64::MAX as u64 / 2_000_000_000 {
            return Err(format!("vsc_timeout_seconds {} must be positive and at most {}", self.vsc_timeout_seconds, i64::MAX as u64 / 2_000_000_000));
        }
        if self.max_consumers == 0 {
            return Err("max_consumers must be positive".into());
        }
        if self.trusting_period_numerator == 0 || self.trusting_period_numerator >= self.trusting_period_denominator {
            return Err(format!(
                "the trusting period fraction {}/{} must be in (0, 1)",
                self.trusting_period_numerator, self.trusting_period_denominator
            ));
        }
        Ok(())
    }
}
