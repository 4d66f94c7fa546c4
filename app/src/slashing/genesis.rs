use serde::{Deserialize, Serialize};

use super::{SlashingParams, SlashingWrite};
use crate::error::{AppResult, SdkError};

/// `app_state.slashing`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlashingGenesis {
    pub params: SlashingParams,
}

impl SlashingGenesis {
    pub async fn apply<S: SlashingWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        self.params.validate().map_err(SdkError::InvalidRequest)?;
        state.put_slashing_params(&self.params)
    }
}
