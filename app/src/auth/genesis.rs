use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{AuthError, AuthParams, AuthWrite};
use crate::error::AppResult;
use crate::types::Address;

/// `app_state.auth` in genesis.json. Accounts listed here exist from the
/// start (with consecutive account numbers, in this order); accounts that
/// only appear in bank balances are created after them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthGenesis {
    pub params: AuthParams,
    pub accounts: Vec<GenesisAccount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAccount {
    pub address: String,
}

impl AuthGenesis {
    pub async fn apply<S: AuthWrite + Send>(&self, state: &mut S, chain_id: &str) -> AppResult<()> {
        self.params.validate()?;
        state.put_auth_params(&self.params)?;
        state.put_chain_id(chain_id)?;
        let mut seen = BTreeSet::new();
        for acc in &self.accounts {
            let addr = Address::parse(&acc.address)?;
            if !seen.insert(addr) {
                return Err(AuthError::DuplicateGenesisAccount(acc.address.clone()).into());
            }
            state.get_or_create_account(&addr).await?;
        }
        Ok(())
    }
}
