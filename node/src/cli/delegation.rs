//! Delegation commands: operators (registration, metadata, commission,
//! consensus key), delegations and the validator set.

use std::path::{Path, PathBuf};

use aegis_app::signer::pack;
use aegis_node::{client, keys, render};
use aegis_proto::aegis::delegation::v1::OperatorMetadata;
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};

use super::common::{addr, print_json, run_tx, submit, NodeArgs, TxArgs};

#[derive(Args, Clone, Default)]
pub struct MetadataArgs {
    /// Operator name shown to delegators.
    #[arg(long)]
    moniker: Option<String>,
    /// Operator website.
    #[arg(long)]
    website: Option<String>,
    /// Free-text description.
    #[arg(long)]
    details: Option<String>,
    /// URI of an off-chain metadata document (JSON).
    #[arg(long)]
    metadata_uri: Option<String>,
}

impl MetadataArgs {
    fn is_empty(&self) -> bool {
        self.moniker.is_none() && self.website.is_none() && self.details.is_none() && self.metadata_uri.is_none()
    }

    /// `base` with the fields given on the command line replaced.
    fn merged(&self, base: OperatorMetadata) -> OperatorMetadata {
        OperatorMetadata {
            moniker: self.moniker.clone().unwrap_or(base.moniker),
            website: self.website.clone().unwrap_or(base.website),
            details: self.details.clone().unwrap_or(base.details),
            metadata_uri: self.metadata_uri.clone().unwrap_or(base.metadata_uri),
        }
    }
}

#[derive(Subcommand)]
pub enum DelegationTx {
    /// Register the signer as an operator (it is self-delegated); with a consensus key it can become a validator.
    RegisterOperator {
        #[command(flatten)]
        metadata: MetadataArgs,
        /// Commission on rewards, basis points (10000 = 100%).
        #[arg(long)]
        commission_rate_bps: u32,
        /// Highest commission rate ever allowed, basis points.
        #[arg(long)]
        max_commission_rate_bps: u32,
        /// Largest change of the rate in one update (one update per 24 h), basis points.
        #[arg(long)]
        max_commission_change_rate_bps: u32,
        /// CometBFT priv_validator_key.json whose ed25519 public key becomes the consensus key.
        #[arg(long)]
        consensus_key_file: Option<PathBuf>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Update the signer's operator metadata (given fields only), commission rate, or set its consensus key.
    UpdateOperator {
        #[command(flatten)]
        metadata: MetadataArgs,
        /// New commission rate, basis points (10000 = 100%).
        #[arg(long)]
        commission_rate_bps: Option<u32>,
        /// CometBFT priv_validator_key.json; only if the operator has no consensus key yet.
        #[arg(long)]
        consensus_key_file: Option<PathBuf>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Delegate all of the signer's shares to an operator.
    Delegate {
        /// Operator address (aegis1...).
        operator: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Queue all of the signer's shares for withdrawal and end its delegation; prints the withdrawal id.
    Undelegate {
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Undelegate, then delegate to another operator; prints the withdrawal id to complete with --as-shares.
    Redelegate {
        /// New operator address (aegis1...).
        operator: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
pub enum DelegationQueryCmd {
    /// Blocks per epoch, max validators, power reduction.
    Params(NodeArgs),
    /// One operator: metadata, commission, consensus key, stake, voting power.
    Operator {
        address: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every operator.
    Operators(NodeArgs),
    /// The stakers delegated to an operator.
    Delegators {
        operator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The operator a staker delegates to (empty if none).
    Delegation {
        address: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The provider's validator set chosen at the last epoch end.
    Validators(NodeArgs),
}

pub async fn tx(cmd: DelegationTx, home: &Path) -> Result<()> {
    use aegis_app::delegation::msgs::{MSG_DELEGATE_URL, MSG_REDELEGATE_URL, MSG_REGISTER_OPERATOR_URL, MSG_UNDELEGATE_URL, MSG_UPDATE_OPERATOR_URL};
    use aegis_proto::aegis::delegation::v1 as pb;
    match cmd {
        DelegationTx::RegisterOperator { metadata, commission_rate_bps, max_commission_rate_bps, max_commission_change_rate_bps, consensus_key_file, tx } => {
            let consensus_pubkey = consensus_key_file.as_deref().map(read_consensus_key).transpose()?.unwrap_or_default();
            run_tx(&tx, home, |s| {
                vec![pack(
                    MSG_REGISTER_OPERATOR_URL,
                    &pb::MsgRegisterOperator {
                        operator: s.address.to_string(),
                        metadata: Some(metadata.merged(OperatorMetadata::default())),
                        commission_rate_bps,
                        max_commission_rate_bps,
                        max_commission_change_rate_bps,
                        consensus_pubkey,
                    },
                )]
            })
            .await
        }
        DelegationTx::UpdateOperator { metadata, commission_rate_bps, consensus_key_file, tx } => {
            let consensus_pubkey = consensus_key_file.as_deref().map(read_consensus_key).transpose()?.unwrap_or_default();
            let signer = keys::Keyring::open(home).signer(&tx.from)?;
            let c = client::GrpcClient::connect(&tx.node.grpc).await?;
            // Metadata is replaced as a whole on chain: start from the current one.
            let metadata = if metadata.is_empty() {
                None
            } else {
                let current = c.delegation().operator(pb::QueryOperatorRequest { operator: signer.address.to_string() }).await?.into_inner();
                Some(metadata.merged(current.operator.and_then(|o| o.metadata).unwrap_or_default()))
            };
            if metadata.is_none() && commission_rate_bps.is_none() && consensus_pubkey.is_empty() {
                bail!("nothing to update: give metadata flags, --commission-rate-bps or --consensus-key-file");
            }
            let msg = pack(MSG_UPDATE_OPERATOR_URL, &pb::MsgUpdateOperator { operator: signer.address.to_string(), metadata, commission_rate_bps, consensus_pubkey });
            submit(&tx, &c, &signer, vec![msg]).await
        }
        DelegationTx::Delegate { operator, tx } => {
            let operator = addr(&operator)?.to_string();
            run_tx(&tx, home, |s| vec![pack(MSG_DELEGATE_URL, &pb::MsgDelegate { staker: s.address.to_string(), operator })]).await
        }
        DelegationTx::Undelegate { tx } => run_tx(&tx, home, |s| vec![pack(MSG_UNDELEGATE_URL, &pb::MsgUndelegate { staker: s.address.to_string() })]).await,
        DelegationTx::Redelegate { operator, tx } => {
            let new_operator = addr(&operator)?.to_string();
            run_tx(&tx, home, |s| vec![pack(MSG_REDELEGATE_URL, &pb::MsgRedelegate { staker: s.address.to_string(), new_operator })]).await
        }
    }
}

pub async fn query(cmd: DelegationQueryCmd) -> Result<()> {
    use aegis_proto::aegis::delegation::v1 as pb;
    use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
    let page = |key: &[u8]| Some(PageRequest { key: key.to_vec(), limit: 100, ..Default::default() });
    match cmd {
        DelegationQueryCmd::Params(node) => {
            let r = client::GrpcClient::connect(&node.grpc).await?.delegation().params(pb::QueryParamsRequest {}).await?.into_inner();
            print_json(serde_json::json!({"params": r.params.as_ref().map(render::delegation_params)}));
        }
        DelegationQueryCmd::Operator { address, node } => {
            let operator = addr(&address)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.delegation().operator(pb::QueryOperatorRequest { operator }).await?.into_inner();
            print_json(serde_json::json!({"operator": r.operator.as_ref().map(render::operator)}));
        }
        DelegationQueryCmd::Operators(node) => {
            let mut q = client::GrpcClient::connect(&node.grpc).await?.delegation();
            let (mut all, mut key) = (vec![], vec![]);
            loop {
                let r = q.operators(pb::QueryOperatorsRequest { pagination: page(&key) }).await?.into_inner();
                all.extend(r.operators.iter().map(render::operator));
                key = r.pagination.map(|p| p.next_key).unwrap_or_default();
                if key.is_empty() {
                    break;
                }
            }
            print_json(serde_json::json!({"operators": all}));
        }
        DelegationQueryCmd::Delegators { operator, node } => {
            let operator = addr(&operator)?.to_string();
            let mut q = client::GrpcClient::connect(&node.grpc).await?.delegation();
            let (mut all, mut key) = (vec![], vec![]);
            loop {
                let r = q.operator_delegators(pb::QueryOperatorDelegatorsRequest { operator: operator.clone(), pagination: page(&key) }).await?.into_inner();
                all.extend(r.delegators);
                key = r.pagination.map(|p| p.next_key).unwrap_or_default();
                if key.is_empty() {
                    break;
                }
            }
            print_json(serde_json::json!({"operator": operator, "delegators": all}));
        }
        DelegationQueryCmd::Delegation { address, node } => {
            let staker = addr(&address)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.delegation().delegation(pb::QueryDelegationRequest { staker: staker.clone() }).await?.into_inner();
            print_json(serde_json::json!({"staker": staker, "operator": r.operator}));
        }
        DelegationQueryCmd::Validators(node) => {
            let r = client::GrpcClient::connect(&node.grpc).await?.delegation().validator_set(pb::QueryValidatorSetRequest {}).await?.into_inner();
            print_json(render::validator_set(&r));
        }
    }
    Ok(())
}

/// The ed25519 public key of a CometBFT priv_validator_key.json.
fn read_consensus_key(path: &Path) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow!("reading {}: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let pk = &v["pub_key"];
    if pk["type"] != "tendermint/PubKeyEd25519" {
        bail!("{}: pub_key.type is {}, want tendermint/PubKeyEd25519", path.display(), pk["type"]);
    }
    let b64 = pk["value"].as_str().ok_or_else(|| anyhow!("{}: no pub_key.value", path.display()))?;
    let key = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).map_err(|e| anyhow!("{}: pub_key.value: {e}", path.display()))?;
    if key.len() != 32 {
        bail!("{}: ed25519 public keys are 32 bytes, got {}", path.display(), key.len());
    }
    Ok(key)
}
