//! Delegation state keys and typed access. The only place delegation keys
//! are spelled.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::DelegationParams;
use crate::error::{AppError, AppResult};
use crate::math::WAD;
use crate::store::{StoreRead, StoreWrite};
use crate::types::Address;

mod keys {
    use crate::types::Address;

    pub const PARAMS: &str = "delegation/params";
    pub const OPERATORS: &str = "delegation/operators/";
    pub const VALIDATORS: &str = "delegation/validator_set";
    pub const CHANGED: &str = "delegation/changed/";

    pub fn changed(op: &Address) -> String {
        format!("{CHANGED}{}", op.to_hex())
    }

    pub fn operator(op: &Address) -> String {
        format!("{OPERATORS}{}", op.to_hex())
    }
    pub fn stake(op: &Address, denom: &str) -> String {
        format!("delegation/stake/{}/{denom}", op.to_hex())
    }
    pub fn stakes_of(op: &Address) -> String {
        format!("delegation/stake/{}/", op.to_hex())
    }
    pub fn delegation(staker: &Address) -> String {
        format!("delegation/delegations/{}", staker.to_hex())
    }
    pub fn delegators_of(op: &Address) -> String {
        format!("delegation/delegators/{}/", op.to_hex())
    }
    pub fn delegator(op: &Address, staker: &Address) -> String {
        format!("delegation/delegators/{}/{}", op.to_hex(), staker.to_hex())
    }
    pub fn consensus_key(key_hex: &str) -> String {
        format!("delegation/consensus_keys/{key_hex}")
    }
    pub fn consensus_address(addr_hex: &str) -> String {
        format!("delegation/consensus_addresses/{addr_hex}")
    }
}

/// The delegators-of-an-operator index prefix, for paginated queries.
pub fn delegators_prefix(op: &Address) -> String {
    keys::delegators_of(op)
}

pub fn operators_prefix() -> &'static str {
    keys::OPERATORS
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OperatorMetadata {
    pub moniker: String,
    pub website: String,
    pub details: String,
    pub metadata_uri: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub address: Address,
    pub metadata: OperatorMetadata,
    pub commission_rate_bps: u32,
    pub max_commission_rate_bps: u32,
    pub max_commission_change_rate_bps: u32,
    /// Block time of the last commission change (registration counts).
    pub commission_updated_at: i64,
    /// Hex of the 32-byte ed25519 consensus key, if any.
    pub consensus_pubkey: Option<String>,
    pub delegator_count: u64,
    /// Out of the validator set for downtime until it sends MsgUnjail.
    #[serde(default)]
    pub jailed: bool,
    /// Double-signed: out of the validator set for good.
    #[serde(default)]
    pub tombstoned: bool,
}

/// CometBFT's address of an ed25519 key (hex upper): the first 20 bytes of
/// its sha256.
pub fn consensus_address_of(key_hex: &str) -> Option<String> {
    use sha2::{Digest, Sha256};
    let bytes = hex::decode(key_hex).ok()?;
    Some(hex::encode_upper(&Sha256::digest(&bytes)[..20]))
}

impl Operator {
    pub fn consensus_address(&self) -> Option<String> {
        self.consensus_pubkey.as_deref().and_then(consensus_address_of)
    }
}

/// An operator's stake in one strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorStake {
    /// Sum of its delegators' scaled shares.
    pub total_scaled: u128,
    /// Sum of the scaled shares of withdrawals queued from it and not yet
    /// completed: still slashable.
    pub queued_scaled: u128,
    /// WAD; starts at 1.0 and only falls (slashing).
    pub max_magnitude: u128,
}

impl Default for OperatorStake {
    fn default() -> Self {
        OperatorStake { total_scaled: 0, queued_scaled: 0, max_magnitude: WAD }
    }
}

impl OperatorStake {
    /// Withdrawable shares delegated to the operator (not counting escrow).
    pub fn active_shares(&self) -> u128 {
        crate::math::mul_wad_down(self.total_scaled, self.max_magnitude).unwrap_or(u128::MAX)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorEntry {
    pub operator: Address,
    pub consensus_pubkey: String,
    pub power: i64,
    pub tokens: u128,
}

/// The provider's validator set chosen at an epoch end, ordered by power
/// (descending), then operator address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorSet {
    pub epoch_height: u64,
    pub validators: Vec<ValidatorEntry>,
}

fn parse_hex_addr(bytes: &[u8]) -> AppResult<Address> {
    let s = std::str::from_utf8(bytes).unwrap_or_default();
    Address::from_hex(s).ok_or_else(|| AppError::internal(format!("corrupt address {s:?}")))
}

#[async_trait]
pub trait DelegationRead: StoreRead {
    async fn delegation_params(&self) -> AppResult<DelegationParams> {
        Ok(self.read_json(keys::PARAMS).await?.unwrap_or_default())
    }

    async fn operator(&self, op: &Address) -> AppResult<Option<Operator>> {
        self.read_json(&keys::operator(op)).await
    }

    /// Every operator, in address order. O(operators): for epoch ends and
    /// queries, never per transaction.
    async fn all_operators(&self) -> AppResult<Vec<Operator>> {
        Ok(self.read_prefix_json(keys::OPERATORS).await?.into_iter().map(|(_, op)| op).collect())
    }

    async fn operator_stake(&self, op: &Address, denom: &str) -> AppResult<OperatorStake> {
        Ok(self.read_json(&keys::stake(op, denom)).await?.unwrap_or_default())
    }

    /// Every strategy an operator has a stake record in, by denom.
    async fn operator_stakes(&self, op: &Address) -> AppResult<Vec<(String, OperatorStake)>> {
        self.read_prefix_json(&keys::stakes_of(op)).await
    }

    async fn delegated_operator(&self, staker: &Address) -> AppResult<Option<Address>> {
        match self.read_bytes(&keys::delegation(staker)).await? {
            Some(bytes) => Ok(Some(parse_hex_addr(&bytes)?)),
            None => Ok(None),
        }
    }

    async fn consensus_key_owner(&self, key_hex: &str) -> AppResult<Option<Address>> {
        match self.read_bytes(&keys::consensus_key(key_hex)).await? {
            Some(bytes) => Ok(Some(parse_hex_addr(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The operator whose consensus key has this CometBFT address (hex upper).
    async fn consensus_address_owner(&self, addr_hex: &str) -> AppResult<Option<Address>> {
        match self.read_bytes(&keys::consensus_address(addr_hex)).await? {
            Some(bytes) => Ok(Some(parse_hex_addr(&bytes)?)),
            None => Ok(None),
        }
    }

    async fn validator_set(&self) -> AppResult<ValidatorSet> {
        Ok(self.read_json(keys::VALIDATORS).await?.unwrap_or_default())
    }

    /// Operators whose stake, allocations or standing changed since the
    /// journal was last cleared (see `touch_operator`), in address order.
    async fn changed_operators(&self) -> AppResult<Vec<Address>> {
        Ok(self.read_prefix(keys::CHANGED).await?.into_iter().filter_map(|(k, _)| Address::from_hex(&k[keys::CHANGED.len()..])).collect())
    }
}

impl<T: StoreRead + ?Sized> DelegationRead for T {}

#[async_trait]
pub trait DelegationWrite: StoreWrite {
    fn put_delegation_params(&mut self, params: &DelegationParams) -> AppResult<()> {
        self.write_json(keys::PARAMS.into(), params)
    }

    fn put_operator(&mut self, op: &Operator) -> AppResult<()> {
        self.touch_operator(&op.address)?;
        self.write_json(keys::operator(&op.address), op)
    }

    fn put_operator_stake(&mut self, op: &Address, denom: &str, stake: &OperatorStake) -> AppResult<()> {
        self.touch_operator(op)?;
        self.write_json(keys::stake(op, denom), stake)
    }

    /// Journal that something an operator's voting power on consumer
    /// chains depends on changed (its record, stake or allocations), so
    /// that the epoch end recomputes only the consumers of the operators
    /// that changed. One small write per change, cleared by the provider.
    fn touch_operator(&mut self, op: &Address) -> AppResult<()> {
        self.write_bytes(keys::changed(op), vec![])
    }

    fn clear_changed_operator(&mut self, op: &Address) -> AppResult<()> {
        self.delete_key(keys::changed(op))
    }

    fn put_delegation(&mut self, staker: &Address, op: &Address) -> AppResult<()> {
        self.write_bytes(keys::delegation(staker), op.to_hex().into_bytes())?;
        self.write_bytes(keys::delegator(op, staker), vec![])
    }

    fn delete_delegation(&mut self, staker: &Address, op: &Address) -> AppResult<()> {
        self.delete_key(keys::delegation(staker))?;
        self.delete_key(keys::delegator(op, staker))
    }

    fn put_consensus_key(&mut self, key_hex: &str, op: &Address) -> AppResult<()> {
        let addr = consensus_address_of(key_hex).ok_or_else(|| AppError::internal(format!("consensus key {key_hex} is not hex")))?;
        self.write_bytes(keys::consensus_address(&addr), op.to_hex().into_bytes())?;
        self.write_bytes(keys::consensus_key(key_hex), op.to_hex().into_bytes())
    }

    /// Take a jailed or tombstoned operator out of the stored validator set
    /// at once; returns the power-0 update for CometBFT. The last validator
    /// is never removed (CometBFT cannot run without one).
    async fn remove_validator(&mut self, op: &Address) -> AppResult<Option<super::hooks::PowerUpdate>> {
        let mut set = self.validator_set().await?;
        let Some(i) = set.validators.iter().position(|v| v.operator == *op) else { return Ok(None) };
        if set.validators.len() == 1 {
            return Ok(None);
        }
        let v = set.validators.remove(i);
        self.put_validator_set(&set)?;
        Ok(Some(super::hooks::PowerUpdate { consensus_pubkey: v.consensus_pubkey, power: 0 }))
    }

    fn put_validator_set(&mut self, set: &ValidatorSet) -> AppResult<()> {
        self.write_json(keys::VALIDATORS.into(), set)
    }
}

impl<T: StoreWrite + ?Sized> DelegationWrite for T {}
