//! Transactions: Cosmos SDK `TxRaw` bytes -> a checked `ParsedTx`.
//!
//! Decoding keeps the exact body and auth-info bytes that were signed
//! (SIGN_MODE_DIRECT signs bytes, not a re-encoding), and runs every check
//! that needs no state, so CheckTx and ProcessProposal can reject garbage
//! before touching the store.

use cosmos_sdk_proto::cosmos::tx::v1beta1::{AuthInfo, TxBody, TxRaw};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::error::{AppResult, SdkError};
use crate::types::{Address, Coins};

/// A message Aegis knows how to execute; see `router.rs`.
pub use crate::router::Msg;

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
