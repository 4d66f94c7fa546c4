use serde::{Deserialize, Serialize};

use super::{RewardsParams, RewardsWrite};
use crate::error::{AppResult, SdkError};

/// `app_state.rewards`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardsGenesis {
    pub params: RewardsParams,
}

impl RewardsGenesis {
    pub async fn apply<S: RewardsWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        self.params.validate().map_err(SdkError::InvalidRequest)?;
        state.put_rewards_params(&self.params)
    }
}
