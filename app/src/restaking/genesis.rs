use serde::{Deserialize, Serialize};

use super::{RestakingError, RestakingParams, RestakingWrite, Strategy};
use crate::error::AppResult;
use crate::restaking::msgs::parse_u128;
use crate::types::{validate_denom, NATIVE_DENOM};

/// `app_state.restaking`: params and the accepted strategies. The native
/// strategy (`uaegis`) always exists, with no cap unless listed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestakingGenesis {
    pub params: RestakingParams,
    pub strategies: Vec<GenesisStrategy>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisStrategy {
    pub denom: String,
    /// Decimal integer; absent or empty = no cap.
    #[serde(default)]
    pub deposit_cap: Option<String>,
}

impl RestakingGenesis {
    pub async fn apply<S: RestakingWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        state.put_restaking_params(&self.params)?;
        let mut strategies: Vec<Strategy> = Vec::new();
        for s in &self.strategies {
            validate_denom(&s.denom)?;
            if strategies.iter().any(|x| x.denom == s.denom) {
                return Err(RestakingError::StrategyExists { denom: s.denom.clone() }.into());
            }
            let deposit_cap = match s.deposit_cap.as_deref() {
                None | Some("") => None,
                Some(c) => Some(parse_u128(c)?),
            };
            strategies.push(Strategy { denom: s.denom.clone(), total_shares: 0, deposit_cap });
        }
        if !strategies.iter().any(|s| s.denom == NATIVE_DENOM) {
            strategies.push(Strategy { denom: NATIVE_DENOM.into(), total_shares: 0, deposit_cap: None });
        }
        for s in &strategies {
            state.put_strategy(s)?;
        }
        Ok(())
    }
}
