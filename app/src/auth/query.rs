//! `cosmos.auth.v1beta1.Query`, served over gRPC and ABCI query.

use cnidarium::Storage;
use cosmos_sdk_proto::cosmos::auth::v1beta1::{query_server::Query, *};
use prost::Message;
use tendermint_proto::google::protobuf::Any;
use tonic::{Request, Response, Status};

use super::AuthRead;
use crate::query::{parse_address, request_snapshot, to_status};
use crate::types::{Address, ADDRESS_PREFIX};

pub const BASE_ACCOUNT_URL: &str = "/cosmos.auth.v1beta1.BaseAccount";
pub const MODULE_ACCOUNT_URL: &str = "/cosmos.auth.v1beta1.ModuleAccount";

#[derive(Clone)]
pub struct AuthQuery {
    storage: Storage,
}

impl AuthQuery {
    pub fn new(storage: Storage) -> Self {
        AuthQuery { storage }
    }

    /// The account at `address` in the request's snapshot, or NotFound.
    async fn existing_account<T>(&self, req: &Request<T>, address: &str) -> Result<BaseAccount, Status> {
        let snapshot = request_snapshot(&self.storage, req)?;
        let addr = parse_address(address)?;
        let acc = snapshot.account(&addr).await.map_err(to_status)?;
        acc.ok_or_else(|| Status::not_found(format!("account {addr} not found")))
    }
}


fn module_account(name: &str) -> ModuleAccount {
    let addr = Address::module(name);
    ModuleAccount {
        base_account: Some(BaseAccount { address: addr.to_string(), pub_key: None, account_number: 0, sequence: 0 }),
        name: name.to_string(),
        permissions: vec![],
    }
}

#[tonic::async_trait]
impl Query for AuthQuery {
    async fn accounts(&self, _req: Request<QueryAccountsRequest>) -> Result<Response<QueryAccountsResponse>, Status> {
        Err(Status::unimplemented("listing every account is not served"))
    }

    async fn account(&self, req: Request<QueryAccountRequest>) -> Result<Response<QueryAccountResponse>, Status> {
        let acc = self.existing_account(&req, &req.get_ref().address).await?;
        Ok(Response::new(QueryAccountResponse { account: Some(Any { type_url: BASE_ACCOUNT_URL.into(), value: acc.encode_to_vec() }) }))
    }

    async fn account_address_by_id(
        &self,
        _req: Request<QueryAccountAddressByIdRequest>,
    ) -> Result<Response<QueryAccountAddressByIdResponse>, Status> {
        Err(Status::unimplemented("account numbers are not indexed"))
    }

    async fn params(&self, req: Request<QueryParamsRequest>) -> Result<Response<QueryParamsResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let p = snapshot.auth_params().await.map_err(to_status)?;
        Ok(Response::new(QueryParamsResponse {
            params: Some(Params {
                max_memo_characters: p.max_memo_characters,
                tx_sig_limit: p.tx_sig_limit,
                tx_size_cost_per_byte: p.gas.tx_size_per_byte,
                sig_verify_cost_ed25519: 0,
                sig_verify_cost_secp256k1: p.gas.sig_verify_secp256k1,
            }),
        }))
    }

    async fn module_accounts(&self, _req: Request<QueryModuleAccountsRequest>) -> Result<Response<QueryModuleAccountsResponse>, Status> {
        let accounts = crate::app::MODULE_ACCOUNTS
            .iter()
            .map(|n| Any { type_url: MODULE_ACCOUNT_URL.into(), value: module_account(n).encode_to_vec() })
            .collect();
        Ok(Response::new(QueryModuleAccountsResponse { accounts }))
    }

    async fn module_account_by_name(
        &self,
        req: Request<QueryModuleAccountByNameRequest>,
    ) -> Result<Response<QueryModuleAccountByNameResponse>, Status> {
        let name = &req.get_ref().name;
        if !crate::app::MODULE_ACCOUNTS.contains(&name.as_str()) {
            return Err(Status::not_found(format!("module account {name} not found")));
        }
        Ok(Response::new(QueryModuleAccountByNameResponse {
            account: Some(Any { type_url: MODULE_ACCOUNT_URL.into(), value: module_account(name).encode_to_vec() }),
        }))
    }

    async fn bech32_prefix(&self, _req: Request<Bech32PrefixRequest>) -> Result<Response<Bech32PrefixResponse>, Status> {
        Ok(Response::new(Bech32PrefixResponse { bech32_prefix: ADDRESS_PREFIX.into() }))
    }

    async fn address_bytes_to_string(
        &self,
        req: Request<AddressBytesToStringRequest>,
    ) -> Result<Response<AddressBytesToStringResponse>, Status> {
        let bytes: [u8; 20] = req
            .get_ref()
            .address_bytes
            .as_slice()
            .try_into()
            .map_err(|_| Status::invalid_argument(format!("expected 20 address bytes, got {}", req.get_ref().address_bytes.len())))?;
        Ok(Response::new(AddressBytesToStringResponse { address_string: Address(bytes).to_string() }))
    }

    async fn address_string_to_bytes(
        &self,
        req: Request<AddressStringToBytesRequest>,
    ) -> Result<Response<AddressStringToBytesResponse>, Status> {
        let addr = parse_address(&req.get_ref().address_string)?;
        Ok(Response::new(AddressStringToBytesResponse { address_bytes: addr.0.to_vec() }))
    }

    async fn account_info(&self, req: Request<QueryAccountInfoRequest>) -> Result<Response<QueryAccountInfoResponse>, Status> {
        let acc = self.existing_account(&req, &req.get_ref().address).await?;
        Ok(Response::new(QueryAccountInfoResponse { info: Some(acc) }))
    }
}

/// `aegis.auth.v1.Query`: the full auth parameters, gas schedule included,
/// and the next sequence an account's transaction must carry.
#[derive(Clone)]
pub struct AegisAuthQuery {
    storage: Storage,
    mempool: Option<crate::abci::MempoolView>,
}

impl AegisAuthQuery {
    /// Without a mempool view (ABCI query), `NextSequence` answers from the
    /// queried state alone.
    pub fn new(storage: Storage) -> Self {
        AegisAuthQuery { storage, mempool: None }
    }

    /// With this node's CheckTx state: `NextSequence` counts the
    /// transactions its mempool has admitted.
    pub fn with_mempool(storage: Storage, mempool: crate::abci::MempoolView) -> Self {
        AegisAuthQuery { storage, mempool: Some(mempool) }
    }
}

#[tonic::async_trait]
impl aegis_proto::aegis::auth::v1::query_server::Query for AegisAuthQuery {
    async fn params(
        &self,
        req: Request<aegis_proto::aegis::auth::v1::QueryParamsRequest>,
    ) -> Result<Response<aegis_proto::aegis::auth::v1::QueryParamsResponse>, Status> {
        use aegis_proto::aegis::auth::v1 as pb;
        let snapshot = request_snapshot(&self.storage, &req)?;
        let p = snapshot.auth_params().await.map_err(to_status)?;
        let g = p.gas;
        Ok(Response::new(pb::QueryParamsResponse {
            params: Some(pb::Params {
                max_memo_characters: p.max_memo_characters,
                tx_sig_limit: p.tx_sig_limit,
                max_tx_gas: p.max_tx_gas,
                gas: Some(pb::GasCosts {
                    read_flat: g.read_flat,
                    read_per_byte: g.read_per_byte,
                    write_flat: g.write_flat,
                    write_per_byte: g.write_per_byte,
                    delete: g.delete,
                    iter_next_flat: g.iter_next_flat,
                    tx_size_per_byte: g.tx_size_per_byte,
                    sig_verify_secp256k1: g.sig_verify_secp256k1,
                    per_message: g.per_message,
                }),
            }),
        }))
    }

    async fn next_sequence(
        &self,
        req: Request<aegis_proto::aegis::auth::v1::QueryNextSequenceRequest>,
    ) -> Result<Response<aegis_proto::aegis::auth::v1::QueryNextSequenceResponse>, Status> {
        let snapshot = request_snapshot(&self.storage, &req)?;
        let addr = parse_address(&req.get_ref().address)?;
        let acc = snapshot
            .account(&addr)
            .await
            .map_err(to_status)?
            .ok_or_else(|| Status::not_found(format!("account {addr} not found")))?;
        let pending = match &self.mempool {
            Some(m) => m.sequence(addr).await.unwrap_or(0),
            None => 0,
        };
        Ok(Response::new(aegis_proto::aegis::auth::v1::QueryNextSequenceResponse {
            account_number: acc.account_number,
            committed_sequence: acc.sequence,
            next_sequence: acc.sequence.max(pending),
        }))
    }
}
