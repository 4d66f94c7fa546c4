use serde::{Deserialize, Serialize};

use super::{AvsParams, AvsWrite};
use crate::error::{AppResult, SdkError};
use crate::restaking::RestakingRead;

/// `app_state.avs`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AvsGenesis {
    pub params: AvsParams,
}

impl AvsGenesis {
    /// Runs after the restaking genesis (the deallocation delay is checked
    /// against its withdrawal delay).
    pub async fn apply<S: AvsWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        let withdrawal_delay = state.restaking_params().await?.withdrawal_delay_seconds;
        self.params.validate(withdrawal_delay).map_err(SdkError::InvalidRequest)?;
        state.put_avs_params(&self.params)
    }
}
