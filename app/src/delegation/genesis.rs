use base64::Engine;
use serde::{Deserialize, Serialize};

use super::msgs::{delegate, RegisterOperator};
use super::{DelegationError, DelegationParams, DelegationWrite, OperatorMetadata};
use crate::error::{AppResult, SdkError};
use crate::restaking::RestakingWrite;
use crate::types::{Address, Coin};

/// `app_state.delegation`: params, operators registered at genesis with
/// their self-delegation, and stakers' genesis delegations. Deposits are
/// taken from the genesis bank balances, exactly as the messages would.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DelegationGenesis {
    pub params: DelegationParams,
    pub operators: Vec<GenesisOperator>,
    pub delegations: Vec<GenesisDelegation>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenesisOperator {
    pub address: String,
    pub metadata: OperatorMetadata,
    pub commission_rate_bps: u32,
    pub max_commission_rate_bps: u32,
    pub max_commission_change_rate_bps: u32,
    /// Base64 ed25519 public key, as in CometBFT's priv_validator_key.json.
    pub consensus_pubkey: String,
    /// Tokens the operator deposits and self-delegates ("1000uaegis").
    pub self_delegation: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenesisDelegation {
    pub staker: String,
    pub operator: String,
    /// Tokens deposited and delegated ("1000uaegis").
    pub amount: String,
}

/// "1000uaegis" -> Coin.
pub fn parse_coin(s: &str) -> AppResult<Coin> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (amount, denom) = s.split_at(split);
    let amount: u128 = amount.parse().map_err(|_| SdkError::InvalidCoins(format!("{s:?} is not <amount><denom>")))?;
    crate::types::validate_denom(denom)?;
    Ok(Coin::new(denom, amount))
}

impl DelegationGenesis {
    pub async fn apply<S: DelegationWrite + RestakingWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        self.params.validate().map_err(SdkError::InvalidRequest)?;
        state.put_delegation_params(&self.params)?;
        for o in &self.operators {
            let key = if o.consensus_pubkey.is_empty() {
                vec![]
            } else {
                base64::engine::general_purpose::STANDARD
                    .decode(&o.consensus_pubkey)
                    .map_err(|e| DelegationError::InvalidConsensusKey(format!("{}: {e}", o.consensus_pubkey)))?
            };
            let msg = aegis_proto::aegis::delegation::v1::MsgRegisterOperator {
                operator: o.address.clone(),
                metadata: Some(aegis_proto::aegis::delegation::v1::OperatorMetadata {
                    moniker: o.metadata.moniker.clone(),
                    website: o.metadata.website.clone(),
                    details: o.metadata.details.clone(),
                    metadata_uri: o.metadata.metadata_uri.clone(),
                }),
                commission_rate_bps: o.commission_rate_bps,
                max_commission_rate_bps: o.max_commission_rate_bps,
                max_commission_change_rate_bps: o.max_commission_change_rate_bps,
                consensus_pubkey: key,
            };
            RegisterOperator::check_stateless(&msg)?.check_and_execute(state).await?;
            if !o.self_delegation.is_empty() {
                state.deposit_tokens(&Address::parse(&o.address)?, &parse_coin(&o.self_delegation)?).await?;
            }
        }
        for d in &self.delegations {
            let staker = Address::parse(&d.staker)?;
            delegate(state, &staker, &Address::parse(&d.operator)?).await?;
            state.deposit_tokens(&staker, &parse_coin(&d.amount)?).await?;
        }
        Ok(())
    }
}
