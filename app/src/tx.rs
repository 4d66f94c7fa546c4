//! Transactions: Cosmos SDK `TxRaw` bytes -> a checked `ParsedTx`.
//!
//! Decoding keeps the exact body and auth-info bytes that were signed
//! (SIGN_MODE_DIRECT signs bytes, not a re-encoding), and runs every check
//! that needs no state, so CheckTx and ProcessProposal can reject garbage
//! before touching the store.

use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{AuthInfo, TxBody, TxRaw};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::bank::msgs::{Transfer, MSG_SEND_URL};
use crate::delegation::msgs as dm;
use crate::restaking::msgs as rm;
use crate::avs::msgs as am;
use crate::rewards::msgs as wm;
use crate::slashing::msgs as sm;
use crate::{avs, delegation, restaking, rewards, slashing};

fn decode<M: Message + Default>(any: &tendermint_proto::google::protobuf::Any) -> Result<M, prost::DecodeError> {
    M::decode(any.value.as_slice())
}
use crate::error::{AppResult, SdkError};
use crate::types::{Address, Coins};

/// Largest transaction accepted, in bytes (CometBFT's own limit is the
/// block size; this keeps a single tx from filling a block).
pub const MAX_TX_BYTES: usize = 1 << 20;

/// How a transaction is being run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecMode {
    /// Mempool admission (CheckTx new): ante only, minimum gas price enforced.
    Check,
    /// Mempool re-check after a block: as Check.
    ReCheck,
    /// Block execution (FinalizeBlock).
    Deliver,
    /// Gas estimation: signatures are not verified but still charged.
    Simulate,
}

/// A message Aegis knows how to execute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    BankSend(Transfer),
    Deposit(restaking::msgs::Deposit),
    QueueWithdrawal(restaking::msgs::QueueWithdrawal),
    CompleteWithdrawal(restaking::msgs::CompleteWithdrawal),
    CreateStrategy(restaking::msgs::CreateStrategy),
    RegisterOperator(delegation::msgs::RegisterOperator),
    UpdateOperator(delegation::msgs::UpdateOperator),
    Delegate(delegation::msgs::Delegate),
    Undelegate(delegation::msgs::Undelegate),
    Redelegate(delegation::msgs::Redelegate),
    ClaimRewards(rewards::msgs::ClaimRewards),
    SubmitAvsRewards(rewards::msgs::SubmitAvsRewards),
    SetAvsCommission(rewards::msgs::SetAvsCommission),
    RegisterAvs(avs::msgs::RegisterAvs),
    UpdateAvs(avs::msgs::UpdateAvs),
    CreateOperatorSet(avs::msgs::CreateOperatorSet),
    RegisterForOperatorSet(avs::msgs::RegisterForOperatorSet),
    DeregisterFromOperatorSet(avs::msgs::DeregisterFromOperatorSet),
    ModifyAllocations(avs::msgs::ModifyAllocations),
    SetAllocationDelay(avs::msgs::SetAllocationDelay),
    SlashOperator(slashing::msgs::SlashOperator),
    VetoSlash(slashing::msgs::VetoSlash),
    ExecuteSlash(slashing::msgs::ExecuteSlash),
    Unjail(slashing::msgs::Unjail),
    Ibc(crate::ibc::msgs::Msg),
}

impl Msg {
    /// Decode an `Any` by type URL and run the message's stateless checks.
    pub fn decode(any: &tendermint_proto::google::protobuf::Any) -> AppResult<Msg> {
        if let Some(m) = crate::ibc::msgs::decode(any) {
            return m.map(Msg::Ibc);
        }
        let bad = |e: prost::DecodeError| SdkError::TxDecode(format!("cannot decode {}: {e}", any.type_url));
        match any.type_url.as_str() {
            MSG_SEND_URL => Ok(Msg::BankSend(Transfer::check_stateless(&MsgSend::decode(any.value.as_slice()).map_err(bad)?)?)),
            rm::MSG_DEPOSIT_URL => Ok(Msg::Deposit(rm::Deposit::check_stateless(&decode(any).map_err(bad)?)?)),
            rm::MSG_QUEUE_WITHDRAWAL_URL => Ok(Msg::QueueWithdrawal(rm::QueueWithdrawal::check_stateless(&decode(any).map_err(bad)?)?)),
            rm::MSG_COMPLETE_WITHDRAWAL_URL => Ok(Msg::CompleteWithdrawal(rm::CompleteWithdrawal::check_stateless(&decode(any).map_err(bad)?)?)),
            rm::MSG_CREATE_STRATEGY_URL => Ok(Msg::CreateStrategy(rm::CreateStrategy::check_stateless(&decode(any).map_err(bad)?)?)),
            dm::MSG_REGISTER_OPERATOR_URL => Ok(Msg::RegisterOperator(dm::RegisterOperator::check_stateless(&decode(any).map_err(bad)?)?)),
            dm::MSG_UPDATE_OPERATOR_URL => Ok(Msg::UpdateOperator(dm::UpdateOperator::check_stateless(&decode(any).map_err(bad)?)?)),
            dm::MSG_DELEGATE_URL => Ok(Msg::Delegate(dm::Delegate::check_stateless(&decode(any).map_err(bad)?)?)),
            dm::MSG_UNDELEGATE_URL => Ok(Msg::Undelegate(dm::Undelegate::check_stateless(&decode(any).map_err(bad)?)?)),
            dm::MSG_REDELEGATE_URL => Ok(Msg::Redelegate(dm::Redelegate::check_stateless(&decode(any).map_err(bad)?)?)),
            wm::MSG_CLAIM_REWARDS_URL => Ok(Msg::ClaimRewards(wm::ClaimRewards::check_stateless(&decode(any).map_err(bad)?)?)),
            wm::MSG_SUBMIT_AVS_REWARDS_URL => Ok(Msg::SubmitAvsRewards(wm::SubmitAvsRewards::check_stateless(&decode(any).map_err(bad)?)?)),
            wm::MSG_SET_AVS_COMMISSION_URL => Ok(Msg::SetAvsCommission(wm::SetAvsCommission::check_stateless(&decode(any).map_err(bad)?)?)),
            am::MSG_REGISTER_AVS_URL => Ok(Msg::RegisterAvs(am::RegisterAvs::check_stateless(&decode(any).map_err(bad)?)?)),
            am::MSG_UPDATE_AVS_URL => Ok(Msg::UpdateAvs(am::UpdateAvs::check_stateless(&decode(any).map_err(bad)?)?)),
            am::MSG_CREATE_OPERATOR_SET_URL => Ok(Msg::CreateOperatorSet(am::CreateOperatorSet::check_stateless(&decode(any).map_err(bad)?)?)),
            am::MSG_REGISTER_FOR_OPERATOR_SET_URL => Ok(Msg::RegisterForOperatorSet(am::RegisterForOperatorSet::check_stateless(&decode(any).map_err(bad)?)?)),
            am::MSG_DEREGISTER_FROM_OPERATOR_SET_URL => {
                Ok(Msg::DeregisterFromOperatorSet(am::DeregisterFromOperatorSet::check_stateless(&decode(any).map_err(bad)?)?))
            }
            am::MSG_MODIFY_ALLOCATIONS_URL => Ok(Msg::ModifyAllocations(am::ModifyAllocations::check_stateless(&decode(any).map_err(bad)?)?)),
            am::MSG_SET_ALLOCATION_DELAY_URL => Ok(Msg::SetAllocationDelay(am::SetAllocationDelay::check_stateless(&decode(any).map_err(bad)?)?)),
            sm::MSG_SLASH_OPERATOR_URL => Ok(Msg::SlashOperator(sm::SlashOperator::check_stateless(&decode(any).map_err(bad)?)?)),
            sm::MSG_VETO_SLASH_URL => Ok(Msg::VetoSlash(sm::VetoSlash::check_stateless(&decode(any).map_err(bad)?)?)),
            sm::MSG_EXECUTE_SLASH_URL => Ok(Msg::ExecuteSlash(sm::ExecuteSlash::check_stateless(&decode(any).map_err(bad)?)?)),
            sm::MSG_UNJAIL_URL => Ok(Msg::Unjail(sm::Unjail::check_stateless(&decode(any).map_err(bad)?)?)),
            other => Err(SdkError::UnknownRequest(format!("unrecognized message type {other}")).into()),
        }
    }

    pub fn signers(&self) -> Vec<Address> {
        vec![match self {
            Msg::BankSend(m) => m.signer(),
            Msg::Deposit(m) => m.staker,
            Msg::QueueWithdrawal(m) => m.staker,
            Msg::CompleteWithdrawal(m) => m.staker,
            Msg::CreateStrategy(m) => m.authority,
            Msg::RegisterOperator(m) => m.operator,
            Msg::UpdateOperator(m) => m.operator,
            Msg::Delegate(m) => m.staker,
            Msg::Undelegate(m) => m.staker,
            Msg::Redelegate(m) => m.staker,
            Msg::ClaimRewards(m) => m.claimer,
            Msg::SubmitAvsRewards(m) => m.owner,
            Msg::SetAvsCommission(m) => m.operator,
            Msg::RegisterAvs(m) => m.owner,
            Msg::UpdateAvs(m) => m.owner,
            Msg::CreateOperatorSet(m) => m.owner,
            Msg::RegisterForOperatorSet(m) => m.operator,
            Msg::DeregisterFromOperatorSet(m) => m.operator,
            Msg::ModifyAllocations(m) => m.operator,
            Msg::SetAllocationDelay(m) => m.operator,
            Msg::SlashOperator(m) => m.slasher,
            Msg::VetoSlash(m) => m.member,
            Msg::ExecuteSlash(m) => m.executor,
            Msg::Unjail(m) => m.operator,
            Msg::Ibc(m) => m.signers()[0],
        }]
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            Msg::BankSend(_) => MSG_SEND_URL,
            Msg::Deposit(_) => rm::MSG_DEPOSIT_URL,
            Msg::QueueWithdrawal(_) => rm::MSG_QUEUE_WITHDRAWAL_URL,
            Msg::CompleteWithdrawal(_) => rm::MSG_COMPLETE_WITHDRAWAL_URL,
            Msg::CreateStrategy(_) => rm::MSG_CREATE_STRATEGY_URL,
            Msg::RegisterOperator(_) => dm::MSG_REGISTER_OPERATOR_URL,
            Msg::UpdateOperator(_) => dm::MSG_UPDATE_OPERATOR_URL,
            Msg::Delegate(_) => dm::MSG_DELEGATE_URL,
            Msg::Undelegate(_) => dm::MSG_UNDELEGATE_URL,
            Msg::Redelegate(_) => dm::MSG_REDELEGATE_URL,
            Msg::ClaimRewards(_) => wm::MSG_CLAIM_REWARDS_URL,
            Msg::SubmitAvsRewards(_) => wm::MSG_SUBMIT_AVS_REWARDS_URL,
            Msg::SetAvsCommission(_) => wm::MSG_SET_AVS_COMMISSION_URL,
            Msg::RegisterAvs(_) => am::MSG_REGISTER_AVS_URL,
            Msg::UpdateAvs(_) => am::MSG_UPDATE_AVS_URL,
            Msg::CreateOperatorSet(_) => am::MSG_CREATE_OPERATOR_SET_URL,
            Msg::RegisterForOperatorSet(_) => am::MSG_REGISTER_FOR_OPERATOR_SET_URL,
            Msg::DeregisterFromOperatorSet(_) => am::MSG_DEREGISTER_FROM_OPERATOR_SET_URL,
            Msg::ModifyAllocations(_) => am::MSG_MODIFY_ALLOCATIONS_URL,
            Msg::SetAllocationDelay(_) => am::MSG_SET_ALLOCATION_DELAY_URL,
            Msg::SlashOperator(_) => sm::MSG_SLASH_OPERATOR_URL,
            Msg::VetoSlash(_) => sm::MSG_VETO_SLASH_URL,
            Msg::ExecuteSlash(_) => sm::MSG_EXECUTE_SLASH_URL,
            Msg::Unjail(_) => sm::MSG_UNJAIL_URL,
            Msg::Ibc(m) => m.type_url(),
        }
    }

    pub fn module(&self) -> &'static str {
        match self {
            Msg::BankSend(_) => "bank",
            Msg::Deposit(_) | Msg::QueueWithdrawal(_) | Msg::CompleteWithdrawal(_) | Msg::CreateStrategy(_) => "restaking",
            Msg::RegisterOperator(_) | Msg::UpdateOperator(_) | Msg::Delegate(_) | Msg::Undelegate(_) | Msg::Redelegate(_) => "delegation",
            Msg::ClaimRewards(_) | Msg::SubmitAvsRewards(_) | Msg::SetAvsCommission(_) => "rewards",
            Msg::RegisterAvs(_)
            | Msg::UpdateAvs(_)
            | Msg::CreateOperatorSet(_)
            | Msg::RegisterForOperatorSet(_)
            | Msg::DeregisterFromOperatorSet(_)
            | Msg::ModifyAllocations(_)
            | Msg::SetAllocationDelay(_) => "avs",
            Msg::SlashOperator(_) | Msg::VetoSlash(_) | Msg::ExecuteSlash(_) | Msg::Unjail(_) => "slashing",
            Msg::Ibc(_) => "ibc",
        }
    }
}

/// A decoded transaction that passed every stateless check.
#[derive(Clone, Debug)]
pub struct ParsedTx {
    /// sha256 of the raw bytes: the hash CometBFT indexes the tx under.
    pub hash: [u8; 32],
    pub size: usize,
    pub body_bytes: Vec<u8>,
    pub auth_info_bytes: Vec<u8>,
    pub signatures: Vec<Vec<u8>>,
    pub body: TxBody,
    pub auth_info: AuthInfo,
    pub msgs: Vec<Msg>,
    /// Distinct signers required by the messages, in order of first use;
    /// signer_infos and signatures line up with these.
    pub signers: Vec<Address>,
    pub fee: Coins,
    pub gas_limit: u64,
    pub fee_payer: Address,
}

impl ParsedTx {
    pub fn hash_hex(&self) -> String {
        hex::encode_upper(self.hash)
    }
}

/// Decode and check `bytes` statelessly. `simulate` relaxes the rules that
/// clients cannot meet before signing: an empty signature and a zero gas
/// limit (cosmjs simulates with both).
pub fn decode_tx(bytes: &[u8], simulate: bool) -> AppResult<ParsedTx> {
    if bytes.len() > MAX_TX_BYTES {
        return Err(SdkError::TxTooLarge { size: bytes.len(), max: MAX_TX_BYTES }.into());
    }
    let decode_err = |what: &str, e: prost::DecodeError| SdkError::TxDecode(format!("{what}: {e}"));
    let raw = TxRaw::decode(bytes).map_err(|e| decode_err("tx bytes are not a TxRaw", e))?;
    let body = TxBody::decode(raw.body_bytes.as_slice()).map_err(|e| decode_err("body", e))?;
    let auth_info = AuthInfo::decode(raw.auth_info_bytes.as_slice()).map_err(|e| decode_err("auth info", e))?;

    if body.messages.is_empty() {
        return Err(SdkError::InvalidRequest("tx has no messages".into()).into());
    }
    if !body.extension_options.is_empty() || !body.non_critical_extension_options.is_empty() {
        return Err(SdkError::UnknownExtensionOptions(format!(
            "{} extension options are not supported",
            body.extension_options.len() + body.non_critical_extension_options.len()
        ))
        .into());
    }
    let msgs = body.messages.iter().map(Msg::decode).collect::<AppResult<Vec<_>>>()?;
    let mut signers: Vec<Address> = Vec::new();
    for m in &msgs {
        for s in m.signers() {
            if !signers.contains(&s) {
                signers.push(s);
            }
        }
    }

    if raw.signatures.is_empty() {
        return Err(SdkError::NoSignatures.into());
    }
    if raw.signatures.len() != signers.len() || auth_info.signer_infos.len() != signers.len() {
        return Err(SdkError::Unauthorized(format!(
            "wrong number of signers: the messages need {}, the tx has {} signatures and {} signer infos",
            signers.len(),
            raw.signatures.len(),
            auth_info.signer_infos.len()
        ))
        .into());
    }
    if !simulate {
        if let Some(i) = raw.signatures.iter().position(|s| s.len() != 64) {
            return Err(SdkError::Unauthorized(format!("signature {i} has {} bytes, expected 64", raw.signatures[i].len())).into());
        }
    }

    let fee = auth_info.fee.clone().ok_or_else(|| SdkError::InvalidRequest("tx has no fee".into()))?;
    let coins = Coins::from_proto(&fee.amount).map_err(|e| SdkError::InvalidCoins(format!("fee: {}", e.message.trim_start_matches("invalid coins: "))))?;
    if fee.gas_limit == 0 && !simulate {
        return Err(SdkError::InvalidGasLimit("gas limit must be positive".into()).into());
    }
    let fee_payer = if fee.payer.is_empty() { signers[0] } else { Address::parse(&fee.payer)? };
    if !signers.contains(&fee_payer) {
        return Err(SdkError::Unauthorized(format!("fee payer {fee_payer} is not a signer of the tx")).into());
    }
    if !fee.granter.is_empty() {
        return Err(SdkError::NotSupported("fee grants are not supported".into()).into());
    }

    Ok(ParsedTx {
        hash: Sha256::digest(bytes).into(),
        size: bytes.len(),
        body_bytes: raw.body_bytes,
        auth_info_bytes: raw.auth_info_bytes,
        signatures: raw.signatures,
        body,
        auth_info,
        msgs,
        signers,
        fee: coins,
        gas_limit: fee.gas_limit,
        fee_payer,
    })
}
