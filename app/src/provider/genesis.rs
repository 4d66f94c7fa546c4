use serde::{Deserialize, Serialize};

use super::{ProviderParams, ProviderWrite};
use crate::error::{AppResult, SdkError};

/// `app_state.provider`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderGenesis {
    pub params: ProviderParams,
}

impl ProviderGenesis {
    pub async fn apply<S: ProviderWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        self.params.validate().map_err(SdkError::InvalidRequest)?;
        state.put_provider_params(&self.params)
    }
}
