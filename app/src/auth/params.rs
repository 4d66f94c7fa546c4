use serde::{Deserialize, Serialize};

use crate::store::GasCosts;

/// Chain-wide auth parameters, set in genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthParams {
    pub max_memo_characters: u64,
    pub tx_sig_limit: u64,
    /// Largest gas limit a single transaction may ask for.
    pub max_tx_gas: u64,
    pub gas: GasCosts,
}

impl Default for AuthParams {
    fn default() -> Self {
        AuthParams { max_memo_characters: 256, tx_sig_limit: 7, max_tx_gas: 100_000_000, gas: GasCosts::default() }
    }
}

impl AuthParams {
    pub fn validate(&self) -> Result<(), super::AuthError> {
        if self.tx_sig_limit == 0 || self.max_tx_gas == 0 {
            return Err(super::AuthError::InvalidParams(format!(
                "tx_sig_limit ({}) and max_tx_gas ({}) must be positive",
                self.tx_sig_limit, self.max_tx_gas
            )));
        }
        Ok(())
    }
}

/// A node-local minimum gas price such as `0.025uaegis`, kept as an integer
/// number of 10^-18 units per gas so fee checks use integers only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinGasPrice {
    pub denom: String,
    /// Price per gas in units of 10^-18 `denom`.
    pub atto_per_gas: u128,
}

const ATTO: u128 = 1_000_000_000_000_000_000;

impl MinGasPrice {
    pub fn zero() -> Self {
        MinGasPrice { denom: crate::types::NATIVE_DENOM.to_string(), atto_per_gas: 0 }
    }

    /// Parse `<decimal><denom>`, e.g. `0.025uaegis`, `1uaegis`, `0uaegis`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(|| format!("minimum gas price {s:?} has no denom"))?;
        let (num, denom) = s.split_at(split);
        crate::types::validate_denom(denom).map_err(|e| e.to_string())?;
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() || frac.len() > 18 || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("minimum gas price {s:?} is not a decimal with at most 18 fractional digits"));
        }
        let int: u128 = int.parse().map_err(|_| format!("minimum gas price {s:?} is too large"))?;
        let frac_scaled: u128 = if frac.is_empty() { 0 } else { frac.parse::<u128>().unwrap() * 10u128.pow(18 - frac.len() as u32) };
        let atto_per_gas = int
            .checked_mul(ATTO)
            .and_then(|v| v.checked_add(frac_scaled))
            .filter(|v| *v < 1u128 << 96)
            .ok_or_else(|| format!("minimum gas price {s:?} is too large"))?;
        Ok(MinGasPrice { denom: denom.to_string(), atto_per_gas })
    }

    /// Smallest fee that pays for `gas_limit` gas, rounded up.
    pub fn required_fee(&self, gas_limit: u64) -> u128 {
        // gas_limit < 2^64 and atto_per_gas < 2^96, so their product could
        // pass 2^128; splitting the price into whole units (< 2^37) and a
        // fraction (< 2^60) keeps each product below 2^124, exactly.
        let whole = (gas_limit as u128) * (self.atto_per_gas / ATTO);
        let frac = (gas_limit as u128) * (self.atto_per_gas % ATTO);
        whole + frac.div_ceil(ATTO)
    }
}

impl std::fmt::Display for MinGasPrice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let int = self.atto_per_gas / ATTO;
        let frac = self.atto_per_gas % ATTO;
        if frac == 0 {
            write!(f, "{int}{}", self.denom)
        } else {
            let digits = format!("{frac:018}");
            write!(f, "{int}.{}{}", digits.trim_end_matches('0'), self.denom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_gas_price_parses_and_rounds_fee_up() {
        let p = MinGasPrice::parse("0.025uaegis").unwrap();
        assert_eq!(p.atto_per_gas, 25_000_000_000_000_000);
        assert_eq!(p.to_string(), "0.025uaegis");
        assert_eq!(p.required_fee(200_000), 5_000);
        assert_eq!(p.required_fee(1), 1); // 0.025 rounds up to 1
        assert_eq!(MinGasPrice::parse("2uaegis").unwrap().required_fee(10), 20);
        assert_eq!(MinGasPrice::parse("0uaegis").unwrap().required_fee(u64::MAX), 0);
        // The largest price and gas limit do not overflow.
        let max = MinGasPrice::parse("79228162514.264337593543950335uaegis").unwrap();
        assert_eq!(max.atto_per_gas, (1u128 << 96) - 1);
        // ceil((2^64 - 1) * (2^96 - 1) / 10^18), computed with arbitrary precision.
        assert_eq!(max.required_fee(u64::MAX), 1461501637330902918124456670184);
        assert!(MinGasPrice::parse("uaegis").is_err());
        assert!(MinGasPrice::parse("1.2.3uaegis").is_err());
        assert!(MinGasPrice::parse("0.0000000000000000001uaegis").is_err());
        assert!(MinGasPrice::parse("1").is_err());
    }
}
