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
use prost::Message;
use tendermint::abci::{Event, EventAttributeIndexExt};

use super::params::{AuthParams, MinGasPrice};
use super::sigcache::SigCacheRead;
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
pub async fn ante<S: StoreWrite + Send + Sync>(
    state: &mut S,
    tx: &ParsedTx,
    mode: ExecMode,
    params: &AuthParams,
    min_gas_price: &MinGasPrice,
) -> AppResult<()> {
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

    let chain_id = match &ctx {
        Some(ctx) => ctx.chain_id.clone(),
        None => state.chain_id().await?,
    };
    let cache = state.sig_cache();
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

        let pubkey = resolve_pubkey(&account, signer, info.public_key.as_ref())?;
        if info.sequence != account.sequence {
            return Err(SdkError::WrongSequence { expected: account.sequence, got: info.sequence }.into());
        }
        state.consume_gas(costs.sig_verify_secp256k1, "secp256k1 signature verification")?;
        if mode != ExecMode::Simulate {
            // Gas is charged above whether or not the cache already holds
            // this signature: a hit saves CPU, never gas.
            let sign_bytes = sign_bytes(tx, &chain_id, account.account_number);
            let verified = match &cache {
                Some(cache) => cache.verify(&pubkey, &sign_bytes, &tx.signatures[i]),
                None => verify_secp256k1(&pubkey, &sign_bytes, &tx.signatures[i]),
            };
            verified.map_err(|why| {
                SdkError::Unauthorized(format!(
                    "signature verification failed for {signer} ({why}); please verify account number ({}), sequence ({}) and chain-id ({chain_id})",
                    account.account_number, account.sequence
                ))
            })?;
        }

        if account.pub_key.is_none() {
            account.pub_key = Some(secp256k1_pubkey_any(&pubkey));
        }
        account.sequence = account.sequence.checked_add(1).ok_or(SdkError::WrongSequence { expected: u64::MAX, got: info.sequence })?;
        state.put_account(signer, &account)?;
        acc_seq_events.push(Event::new("tx", [("acc_seq", format!("{signer}/{}", info.sequence)).index()]));
    }

    // Deduct the fee last so the payer's signature has been checked.
    static COLLECTOR: std::sync::LazyLock<Address> = std::sync::LazyLock::new(|| Address::module(super::FEE_COLLECTOR));
    let collector = *COLLECTOR;
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

/// What a SIGN_MODE_DIRECT signature covers: the encoded
/// `SignDoc{body, auth_info, chain_id, account_number}`.
pub fn sign_bytes(tx: &ParsedTx, chain_id: &str, account_number: u64) -> Vec<u8> {
    SignDoc {
        body_bytes: tx.body_bytes.clone(),
        auth_info_bytes: tx.auth_info_bytes.clone(),
        chain_id: chain_id.to_string(),
        account_number,
    }
    .encode_to_vec()
}

/// The key that signs for `signer`: the one the account registered, or on
/// its first transaction the one in the signer info, which must hash to the
/// signer's address.
pub(crate) fn resolve_pubkey(
    account: &cosmos_sdk_proto::cosmos::auth::v1beta1::BaseAccount,
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
    let stored = super::state::stored_pubkey(account)?;
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

/// ECDSA over sha256(msg) with a 64-byte (r || s) signature, verified by
/// libsecp256k1 (bitcoin-core's C library, several times faster than pure
/// Rust here). It refuses high-s signatures, so a signature cannot be
/// malleated into a second valid one.
pub fn verify_secp256k1(pubkey: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), String> {
    use secp256k1::{ecdsa::Signature, Message, PublicKey, Secp256k1, VerifyOnly};
    use sha2::{Digest, Sha256};
    static CTX: std::sync::LazyLock<Secp256k1<VerifyOnly>> = std::sync::LazyLock::new(Secp256k1::verification_only);
    let pk = PublicKey::from_slice(pubkey).map_err(|_| "malformed public key".to_string())?;
    let sig = Signature::from_compact(sig).map_err(|_| format!("malformed signature of {} bytes", sig.len()))?;
    let mut normalized = sig;
    normalized.normalize_s();
    if normalized != sig {
        return Err("signature is not in low-s form".into());
    }
    let digest = Message::from_slice(&Sha256::digest(msg)).expect("32-byte digest");
    CTX.verify_ecdsa(&digest, &sig, &pk).map_err(|_| "signature does not match".to_string())
}

fn secp256k1_pubkey_any(pubkey: &[u8]) -> tendermint_proto::google::protobuf::Any {
    tendermint_proto::google::protobuf::Any { type_url: SECP256K1_PUBKEY_URL.to_string(), value: PubKey { key: pubkey.to_vec() }.encode_to_vec() }
}

#[cfg(test)]
mod tests {
    use super::verify_secp256k1;

    #[test]
    fn verification_accepts_low_s_and_refuses_high_s_and_tampering() {
        let signer = crate::testkit::test_signer("sig");
        let msg = b"sign doc bytes";
        let sig = signer.sign_bytes(msg);
        assert_eq!(verify_secp256k1(&signer.public_key(), msg, &sig), Ok(()));
        // The same signature with s replaced by n - s verifies mathematically
        // but is refused.
        let n = hex::decode("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141").unwrap();
        let mut high = sig.clone();
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = n[i] as i16 - sig[32 + i] as i16 - borrow;
            high[32 + i] = d.rem_euclid(256) as u8;
            borrow = if d < 0 { 1 } else { 0 };
        }
        assert_eq!(verify_secp256k1(&signer.public_key(), msg, &high), Err("signature is not in low-s form".into()));
        assert_eq!(verify_secp256k1(&signer.public_key(), b"other bytes", &sig), Err("signature does not match".into()));
        assert_eq!(verify_secp256k1(&signer.public_key(), msg, &sig[..63]), Err("malformed signature of 63 bytes".into()));
        assert_eq!(verify_secp256k1(&[5u8; 33], msg, &sig), Err("malformed public key".into()));
    }
}
