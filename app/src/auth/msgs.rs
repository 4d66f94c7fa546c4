//! The ante handler: what every transaction pays and proves before its
//! messages run. Signatures (SIGN_MODE_DIRECT over body, auth info, chain id
//! and account number), sequences (replay protection), the fee (charged even
//! when a message later fails) and the node's minimum gas price (CheckTx
//! only, as the Cosmos SDK does).

use base64::Engine;
use cnidarium::StateDelta;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, SignDoc};
use k256::ecdsa::{signature::Verifier, Signature, VerifyingKey};
use prost::Message;
use tendermint::abci::{Event, EventAttributeIndexExt};

use super::params::MinGasPrice;
use super::state::{AuthRead, AuthWrite, SECP256K1_PUBKEY_URL};
use crate::bank::BankWrite;
use crate::error::{AppResult, SdkError};
use crate::store::StoreWrite;
use crate::tx::{ExecMode, ParsedTx};
use crate::types::{Address, Coin, NATIVE_DENOM};

/// Bytes a 64-byte signature adds to a TxRaw (tag, length, data).
const SIMULATED_SIGNATURE_BYTES: u64 = 66;

/// Run the ante checks and effects for `tx` against `state`: on success the
/// fee has moved to the fee collector and every signer's sequence advanced.
/// On error the caller discards `state`.
pub async fn ante<S: StoreWrite + Send + Sync>(state: &mut S, tx: &ParsedTx, mode: ExecMode, min_gas_price: &MinGasPrice) -> AppResult<()> {
    let params = state.auth_params().await?;
    let costs = params.gas;
    let mut size = tx.size as u64;
    if mode == ExecMode::Simulate {
        // Clients simulate before signing: charge for the signatures the
        // real tx will carry (64 bytes plus framing each).
        size += tx.signatures.iter().filter(|s| s.is_empty()).count() as u64 * SIMULATED_SIGNATURE_BYTES;
    }
    state.consume_gas(size.saturating_mul(costs.tx_size_per_byte), "tx size")?;

    let memo_len = tx.body.memo.chars().count();
    if memo_len as u64 > params.max_memo_characters {
        return Err(SdkError::MemoTooLarge { len: memo_len, max: params.max_memo_characters as usize }.into());
    }
    if mode != ExecMode::Simulate && tx.gas_limit > params.max_tx_gas {
        return Err(SdkError::InvalidGasLimit(format!("gas limit {} exceeds the maximum {}", tx.gas_limit, params.max_tx_gas)).into());
    }
    if tx.signers.len() as u64 > params.tx_sig_limit {
        return Err(SdkError::Unauthorized(format!("{} signatures exceed the limit of {}", tx.signers.len(), params.tx_sig_limit)).into());
    }
    let ctx = state.block_context();
    if let Some(ctx) = &ctx {
        if tx.body.timeout_height != 0 && tx.body.timeout_height < ctx.height {
            return Err(SdkError::TxTimeoutHeight { timeout: tx.body.timeout_height, height: ctx.height }.into());
        }
    }

    // Fee: one coin of the native denom (or none, where the node accepts free txs).
    for c in tx.fee.iter() {
        if c.denom != NATIVE_DENOM {
            return Err(SdkError::InsufficientFee {
                got: tx.fee.to_string(),
                required: format!("fees in {NATIVE_DENOM} only"),
                gas_limit: tx.gas_limit,
                min_gas_price: min_gas_price.to_string(),
            }
            .into());
        }
    }
    if matches!(mode, ExecMode::Check | ExecMode::ReCheck) {
        let required = min_gas_price.required_fee(tx.gas_limit);
        let paid = tx.fee.amount_of(&min_gas_price.denom).0;
        if paid < required {
            return Err(SdkError::InsufficientFee {
                got: if tx.fee.is_empty() { "0".into() } else { tx.fee.to_string() },
                required: format!("{required}{}", min_gas_price.denom),
                gas_limit: tx.gas_limit,
                min_gas_price: min_gas_price.to_string(),
            }
            .into());
        }
    }

    let chain_id = state.chain_id().await?;
    let mut acc_seq_events = Vec::with_capacity(tx.signers.len());
    for (i, signer) in tx.signers.iter().enumerate() {
        let info = &tx.auth_info.signer_infos[i];
        let mut account = state.account(signer).await?.ok_or_else(|| SdkError::UnknownAddress(signer.to_string()))?;

        // SIGN_MODE_DIRECT only.
        let mode_ok = matches!(
            info.mode_info.as_ref().and_then(|m| m.sum.as_ref()),
            Some(mode_info::Sum::Single(s)) if s.mode == SignMode::Direct as i32
        );
        // Clients simulate before signing, with SIGN_MODE_UNSPECIFIED (cosmjs).
        if !mode_ok && mode != ExecMode::Simulate {
            return Err(SdkError::NotSupported(format!("signer {signer}: only SIGN_MODE_DIRECT single signatures are supported")).into());
        }

        let pubkey = resolve_pubkey(state, signer, info.public_key.as_ref()).await?;
        if info.sequence != account.sequence {
            return Err(SdkError::WrongSequence { expected: account.sequence, got: info.sequence }.into());
        }
        state.consume_gas(costs.sig_verify_secp256k1, "secp256k1 signature verification")?;
        if mode != ExecMode::Simulate {
            let sign_doc = SignDoc {
                body_bytes: tx.body_bytes.clone(),
                auth_info_bytes: tx.auth_info_bytes.clone(),
                chain_id: chain_id.clone(),
                account_number: account.account_number,
            };
            verify_secp256k1(&pubkey, &sign_doc.encode_to_vec(), &tx.signatures[i]).map_err(|why| {
                SdkError::Unauthorized(format!(
                    "signature verification failed for {signer} ({why}); please verify account number ({}), sequence ({}) and chain-id ({chain_id})",
                    account.account_number, account.sequence
                ))
            })?;
        }

        if account.pub_key.is_none() {
            account.pub_key = Some(prost_types_any(&pubkey));
        }
        account.sequence = account.sequence.checked_add(1).ok_or_else(|| SdkError::WrongSequence { expected: u64::MAX, got: info.sequence })?;
        state.put_account(&account)?;
        acc_seq_events.push(Event::new("tx", [("acc_seq", format!("{signer}/{}", info.sequence)).index()]));
    }

    // Deduct the fee last so the payer's signature has been checked.
    let collector = Address::module(super::FEE_COLLECTOR);
    for coin in tx.fee.iter() {
        state.send_coin(&tx.fee_payer, &collector, coin).await?;
    }
    if mode == ExecMode::Simulate && tx.fee.is_empty() {
        // Clients simulate with no fee; charge what moving the real fee will
        // cost by moving one unit in a fork that is thrown away.
        let mut probe = StateDelta::new(&mut *state);
        let _ = probe.send_coin(&tx.fee_payer, &collector, &Coin::new(NATIVE_DENOM, 1)).await;
    }
    state.record(Event::new(
        "tx",
        [("fee", tx.fee.to_string()).index(), ("fee_payer", tx.fee_payer.to_string()).index()],
    ));
    for e in acc_seq_events {
        state.record(e);
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    for sig in &tx.signatures {
        state.record(Event::new("tx", [("signature", b64.encode(sig)).index()]));
    }
    Ok(())
}

/// The key that signs for `signer`: the one the account registered, or on
/// its first transaction the one in the signer info, which must hash to the
/// signer's address.
async fn resolve_pubkey<S: AuthRead + Send + Sync>(
    state: &S,
    signer: &Address,
    supplied: Option<&tendermint_proto::google::protobuf::Any>,
) -> AppResult<Vec<u8>> {
    let supplied = match supplied {
        Some(any) if any.type_url == SECP256K1_PUBKEY_URL => Some(
            PubKey::decode(any.value.as_slice())
                .map_err(|e| SdkError::InvalidPubKey(format!("signer {signer}: {e}")))?
                .key,
        ),
        Some(any) => return Err(SdkError::InvalidPubKey(format!("signer {signer}: unsupported key type {}", any.type_url)).into()),
        None => None,
    };
    let stored = state.account_pubkey(signer).await?;
    let key = match (stored, supplied) {
        (Some(stored), Some(supplied)) if stored != supplied => {
            return Err(SdkError::InvalidPubKey(format!("signer {signer}: supplied key differs from the account's key")).into())
        }
        (Some(stored), _) => stored,
        (None, Some(supplied)) => supplied,
        (None, None) => return Err(SdkError::InvalidPubKey(format!("signer {signer}: the account has no key yet, so the tx must carry one")).into()),
    };
    if key.len() != 33 || Address::from_secp256k1(&key) != *signer {
        return Err(SdkError::InvalidPubKey(format!("signer {signer}: key does not belong to this address")).into());
    }
    Ok(key)
}

/// ECDSA over sha256(msg) with a 64-byte (r || s) signature; high-s
/// signatures are refused so that a signature cannot be malleated.
pub fn verify_secp256k1(pubkey: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), String> {
    let vk = VerifyingKey::from_sec1_bytes(pubkey).map_err(|_| "malformed public key".to_string())?;
    let sig = Signature::from_slice(sig).map_err(|_| format!("malformed signature of {} bytes", sig.len()))?;
    if sig.normalize_s().is_some() {
        return Err("signature is not in low-s form".into());
    }
    vk.verify(msg, &sig).map_err(|_| "signature does not match".to_string())
}

fn prost_types_any(pubkey: &[u8]) -> tendermint_proto::google::protobuf::Any {
    tendermint_proto::google::protobuf::Any { type_url: SECP256K1_PUBKEY_URL.to_string(), value: PubKey { key: pubkey.to_vec() }.encode_to_vec() }
}
