use ibc_core::host::types::path::{NextChannelSequencePath, NextClientSequencePath, NextConnectionSequencePath};
use serde::{Deserialize, Serialize};

use super::state::keys;
use super::{IbcError, IbcParams};
use crate::error::AppResult;
use crate::store::StoreWrite;

/// `app_state.ibc`: a chain starts with no clients, connections or
/// channels; only the params are configurable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IbcGenesis {
    pub params: IbcParams,
}

impl IbcGenesis {
    pub async fn apply<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        self.params.validate().map_err(IbcError::Genesis)?;
        state.write_json(keys::PARAMS.into(), &self.params)?;
        // ibc-go's InitGenesis writes the identifier counters; this also
        // initializes the `ibc` substore at version 0.
        for key in [keys::path(NextClientSequencePath), keys::path(NextConnectionSequencePath), keys::path(NextChannelSequencePath)] {
            state.write_u64(key, 0)?;
        }
        Ok(())
    }
}
