//! Building and signing transactions (cosmrs), for the CLI, tests and
//! benchmarks. Keys come from BIP39 mnemonics at `m/44'/118'/0'/0/0`, the
//! Cosmos default, so a mnemonic gives the same address here as in any
//! Cosmos wallet.

use anyhow::{anyhow, Result};
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::tx::{Body, Fee, SignDoc, SignerInfo};
use cosmrs::Any;
use prost::Message;

use crate::bank::msgs::MSG_SEND_URL;
use crate::types::{Address, Coin, NATIVE_DENOM};

pub const HD_PATH: &str = "m/44'/118'/0'/0/0";

pub struct Signer {
    key: SigningKey,
    pub address: Address,
}

impl std::fmt::Debug for Signer {
    /// Shows the address only: never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.address)
    }
}

/// What a signature commits to besides the messages.
#[derive(Clone, Debug)]
pub struct SignOptions {
    pub chain_id: String,
    pub account_number: u64,
    pub sequence: u64,
    /// Fee in `uaegis`.
    pub fee: u128,
    pub gas_limit: u64,
    pub memo: String,
    pub timeout_height: u64,
}

impl SignOptions {
    pub fn new(chain_id: &str, account_number: u64, sequence: u64) -> Self {
        SignOptions { chain_id: chain_id.into(), account_number, sequence, fee: 5_000, gas_limit: 200_000, memo: String::new(), timeout_height: 0 }
    }
}

impl Signer {
    pub fn from_mnemonic(phrase: &str) -> Result<Self> {
        let words = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
        let mnemonic = bip39::Mnemonic::parse_in(bip39::Language::English, &words).map_err(|e| anyhow!("invalid mnemonic: {e}"))?;
        let seed = mnemonic.to_seed("");
        let path: bip32::DerivationPath = HD_PATH.parse().map_err(|e| anyhow!("{e}"))?;
        let xprv = bip32::XPrv::derive_from_path(seed, &path).map_err(|e| anyhow!("deriving {HD_PATH}: {e}"))?;
        Self::from_secret(&xprv.private_key().to_bytes())
    }

    pub fn from_secret(secret: &[u8]) -> Result<Self> {
        let key = SigningKey::from_slice(secret).map_err(|e| anyhow!("invalid secp256k1 secret: {e}"))?;
        let address = Address::from_secp256k1(&key.public_key().to_bytes());
        Ok(Signer { key, address })
    }

    /// A fresh random 24-word mnemonic (for `keys add`; never used by the state machine).
    pub fn generate_mnemonic(entropy: [u8; 32]) -> String {
        bip39::Mnemonic::from_entropy(&entropy).expect("32 bytes is a valid entropy length").to_string()
    }

    /// A raw secp256k1 signature (64 bytes, low-s) over sha256(bytes).
    pub fn sign_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        self.key.sign(bytes).expect("signing cannot fail").to_bytes().to_vec()
    }

    /// Compressed SEC1 public key, 33 bytes.
    pub fn public_key(&self) -> Vec<u8> {
        self.key.public_key().to_bytes()
    }

    pub fn msg_send(&self, to: &Address, coins: &[Coin]) -> Any {
        let msg = MsgSend {
            from_address: self.address.to_string(),
            to_address: to.to_string(),
            amount: coins.iter().map(Coin::to_proto).collect(),
        };
        Any { type_url: MSG_SEND_URL.into(), value: msg.encode_to_vec() }
    }

    /// Sign `msgs` with SIGN_MODE_DIRECT; returns the `TxRaw` bytes.
    /// (Pack Aegis messages with [`pack`].)
    pub fn sign(&self, msgs: Vec<Any>, opts: &SignOptions) -> Result<Vec<u8>> {
        let body = Body::new(msgs, opts.memo.clone(), cosmrs::tendermint::block::Height::try_from(opts.timeout_height)?);
        let fee_coin = cosmrs::Coin { denom: NATIVE_DENOM.parse().map_err(|e| anyhow!("{e}"))?, amount: opts.fee };
        let fee = if opts.fee == 0 { Fee { amount: vec![], gas_limit: opts.gas_limit, payer: None, granter: None } } else { Fee::from_amount_and_gas(fee_coin, opts.gas_limit) };
        let auth_info = SignerInfo::single_direct(Some(self.key.public_key()), opts.sequence).auth_info(fee);
        let chain_id = opts.chain_id.parse().map_err(|e| anyhow!("invalid chain id {}: {e}", opts.chain_id))?;
        let raw = SignDoc::new(&body, &auth_info, &chain_id, opts.account_number)
            .and_then(|doc| doc.sign(&self.key))
            .map_err(|e| anyhow!("signing: {e}"))?;
        raw.to_bytes().map_err(|e| anyhow!("encoding: {e}"))
    }
}

/// `Any`-pack a message under its type URL ("/aegis.restaking.v1.MsgDeposit").
pub fn pack<M: Message>(type_url: &str, msg: &M) -> Any {
    Any { type_url: type_url.into(), value: msg.encode_to_vec() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnemonic_derives_the_cosmos_default_address() {
        // The well-known test mnemonic of the Cosmos SDK's keyring tests
        // derives cosmos1... at m/44'/118'/0'/0/0; the same bytes are shown
        // with Aegis's prefix.
        let s = Signer::from_mnemonic(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
        )
        .unwrap();
        let cosmos = cosmrs::AccountId::new("cosmos", &s.address.0).unwrap().to_string();
        assert_eq!(cosmos, "cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4");
        assert!(s.address.to_string().starts_with("aegis1"));
    }
}
