//! Auth state keys and typed access. The only place auth keys are spelled.

use async_trait::async_trait;
use cosmos_sdk_proto::cosmos::auth::v1beta1::BaseAccount;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use prost::Message;

use super::AuthParams;
use crate::error::{AppError, AppResult};
use crate::store::{StoreRead, StoreWrite};
use crate::types::Address;

pub const SECP256K1_PUBKEY_URL: &str = "/cosmos.crypto.secp256k1.PubKey";

/// The secp256k1 key an account registered with its first transaction, if any.
pub fn stored_pubkey(acc: &BaseAccount) -> AppResult<Option<Vec<u8>>> {
    match &acc.pub_key {
        Some(any) if any.type_url == SECP256K1_PUBKEY_URL => PubKey::decode(any.value.as_slice())
            .map(|k| Some(k.key))
            .map_err(|e| AppError::internal(format!("corrupt pubkey of {}: {e}", acc.address))),
        Some(any) => Err(AppError::internal(format!("unsupported stored pubkey type {}", any.type_url))),
        None => Ok(None),
    }
}

mod keys {
    use crate::types::Address;

    pub const PARAMS: &str = "auth/params";
    pub const CHAIN_ID: &str = "auth/chain_id";
    pub const NEXT_ACCOUNT_NUMBER: &str = "auth/next_account_number";
    pub const ACCOUNTS: &str = "auth/accounts/";

    pub fn account(addr: &Address) -> String {
        format!("{ACCOUNTS}{}", addr.to_hex())
    }
}


#[async_trait]
pub trait AuthRead: StoreRead {
    /// The params, decoded once per distinct stored value: every
    /// transaction asks, and they change only by a params write.
    async fn auth_params(&self) -> AppResult<AuthParams> {
        static LAST: std::sync::Mutex<Option<(Vec<u8>, AuthParams)>> = std::sync::Mutex::new(None);
        let Some(bytes) = self.read_bytes(keys::PARAMS).await? else { return Ok(AuthParams::default()) };
        if let Some((b, p)) = LAST.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if *b == bytes {
                return Ok(p.clone());
            }
        }
        let params: AuthParams = serde_json::from_slice(&bytes).map_err(|e| AppError::internal(format!("corrupt value at {}: {e}", keys::PARAMS)))?;
        *LAST.lock().unwrap_or_else(|p| p.into_inner()) = Some((bytes, params.clone()));
        Ok(params)
    }

    async fn chain_id(&self) -> AppResult<String> {
        let bytes = self.read_bytes(keys::CHAIN_ID).await?.ok_or_else(|| AppError::internal("chain id not set: genesis has not run"))?;
        String::from_utf8(bytes).map_err(|e| AppError::internal(e.to_string()))
    }

    async fn account(&self, addr: &Address) -> AppResult<Option<BaseAccount>> {
        self.read_proto(&keys::account(addr)).await
    }

}

impl<T: StoreRead + ?Sized> AuthRead for T {}

#[async_trait]
pub trait AuthWrite: StoreWrite {
    fn put_auth_params(&mut self, params: &AuthParams) -> AppResult<()> {
        self.write_json(keys::PARAMS.to_string(), params)
    }

    fn put_chain_id(&mut self, chain_id: &str) -> AppResult<()> {
        self.write_bytes(keys::CHAIN_ID.to_string(), chain_id.as_bytes().to_vec())
    }

    /// Store `acc`, the account of `addr` (`acc.address` is `addr` in bech32).
    fn put_account(&mut self, addr: &Address, acc: &BaseAccount) -> AppResult<()> {
        debug_assert_eq!(acc.address, addr.to_string());
        self.write_proto(keys::account(addr), acc)
    }

    /// The account at `addr`, created with the next account number if it
    /// does not exist yet (as the Cosmos SDK does when an address first
    /// receives funds).
    async fn get_or_create_account(&mut self, addr: &Address) -> AppResult<BaseAccount> {
        if let Some(acc) = self.account(addr).await? {
            return Ok(acc);
        }
        let number = self.read_u64(keys::NEXT_ACCOUNT_NUMBER).await?.unwrap_or(0);
        self.write_u64(keys::NEXT_ACCOUNT_NUMBER.to_string(), number + 1)?;
        let acc = BaseAccount { address: addr.to_string(), pub_key: None, account_number: number, sequence: 0 };
        self.put_account(addr, &acc)?;
        Ok(acc)
    }
}

impl<T: StoreWrite + ?Sized> AuthWrite for T {}
