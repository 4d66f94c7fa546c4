//! Provider commands: register, update and remove consumer chains (their
//! owner), opt in and out and assign consumer keys (operators), and read
//! consumers, their genesis and validator sets.

use std::path::{Path, PathBuf};

use aegis_app::signer::pack;
use aegis_node::client;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};

use super::common::{addr, addrs, parse_wad_fraction, print_json, run_tx, NodeArgs, TxArgs};

#[derive(Args)]
pub struct ConsumerArgs {
    /// The consumer chain's id, e.g. consumer-1 (its revision is the number after the last '-').
    #[arg(long = "consumer-chain-id", id = "consumer_chain_id")]
    chain_id: String,
    /// When it may launch: Unix seconds, or +N for N seconds after the latest block.
    #[arg(long, default_value = "+0")]
    spawn_time: String,
    /// Accepted strategy and its power weight (1 = one power per power_reduction tokens allocated), e.g. uaegis=1, stuaegis=0.5. Repeat for several.
    #[arg(long = "strategy", value_name = "DENOM=WEIGHT", required = true)]
    strategies: Vec<String>,
    /// Fraction of the consumer's fees sent to the provider, a decimal from 0 to 1 (not WAD), e.g. 0.25.
    #[arg(long, default_value = "0.25")]
    reward_fraction: String,
    /// Tokens (base units, not shares) an operator must allocate (over all accepted strategies) to validate.
    #[arg(long, default_value = "0")]
    min_stake: u128,
    /// Most validators (highest powers); 0 = no limit.
    #[arg(long, default_value_t = 0)]
    max_validators: u32,
    /// No validator above this percentage of the total power; 0 = no cap.
    #[arg(long, default_value_t = 0)]
    power_cap_percent: u32,
    /// Only these operators may opt in (comma-separated).
    #[arg(long, value_delimiter = ',')]
    allowlist: Vec<String>,
    /// These operators may not opt in (comma-separated).
    #[arg(long, value_delimiter = ',')]
    denylist: Vec<String>,
    /// Fraction of the stake allocated to the consumer slashed for a double-sign on it: a decimal from 0 to 1 (not WAD), e.g. 0.05.
    #[arg(long, default_value = "0.05")]
    double_sign_fraction: String,
    /// Fraction of the stake allocated to the consumer slashed for downtime on it: a decimal from 0 to 1 (not WAD).
    #[arg(long, default_value = "0")]
    downtime_fraction: String,
    /// How long downtime on the consumer jails a validator there, in seconds.
    #[arg(long, default_value_t = 600)]
    downtime_jail_seconds: u64,
    /// The consumer's unbonding period in seconds; 0 = the provider's.
    #[arg(long, default_value_t = 0)]
    unbonding_seconds: u64,
    /// Basis points (10000 = 100%). Recorded only, not applied yet: an operator's commission on a consumer's rewards is its AVS commission on the consumer's id (`tx rewards set-avs-commission`), else its native rate.
    #[arg(long, default_value_t = 1_000)]
    commission_bps: u32,
    /// How the consumer proves its state: aegis or cosmos-sdk.
    #[arg(long, default_value = "aegis")]
    proof_specs: String,
    /// Every how many of its blocks the consumer sends the provider its share of the fees (its genesis's
    /// blocks_per_distribution_transmission); 0 = ICS's default, 1000.
    #[arg(long, default_value_t = 0)]
    blocks_per_distribution_transmission: u64,
    #[arg(long, default_value = "")]
    name: String,
    #[arg(long, default_value = "")]
    description: String,
}

#[derive(Subcommand)]
pub enum ProviderTx {
    /// Register a consumer chain (the signer owns it). Prints its id.
    CreateConsumer {
        #[command(flatten)]
        consumer: Box<ConsumerArgs>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Replace a consumer's parameters (owner only; after launch its chain id, spawn time, unbonding period and strategies stay).
    UpdateConsumer {
        consumer_id: u64,
        #[command(flatten)]
        consumer: Box<ConsumerArgs>,
        /// Hand the consumer over to this account.
        #[arg(long)]
        new_owner: Option<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Stop a launched consumer (removed after its unbonding period) or remove a registered one (owner only).
    RemoveConsumer {
        consumer_id: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Join a consumer in one transaction: opt in, assign the consumer key, and allocate stake to it.
    OptIn {
        consumer_id: u64,
        #[command(flatten)]
        key: KeyArgs,
        /// Stake to allocate: strategy and the fraction of the operator's stake in it, a decimal from 0 to 1 (not WAD), e.g. uaegis=0.5. Repeat for several.
        #[arg(long = "allocate", value_name = "DENOM=FRACTION")]
        allocations: Vec<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Leave a consumer's validator set at the next epoch end (slashable for the deallocation delay).
    OptOut {
        consumer_id: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Return the signer to a consumer's set (next epoch end) after its downtime jail there.
    Unjail {
        consumer_id: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Set the ed25519 key the signer validates a consumer with.
    AssignKey {
        consumer_id: u64,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Submit a double-sign on a consumer as evidence (ICS's MsgSubmitConsumerDoubleVoting, one per
    /// duplicate vote, in one transaction). `aegisd relayer start` does this by itself on CCV paths.
    SubmitDoubleVoting {
        consumer_id: u64,
        /// CometBFT's evidence JSON as /block shows it ({"type":"tendermint/DuplicateVoteEvidence","value":{..}}, or a list).
        #[arg(long, required_unless_present = "height", conflicts_with = "height")]
        evidence_file: Option<PathBuf>,
        /// Or: the consumer block whose evidence to submit (read from --consumer-rpc).
        #[arg(long, requires = "consumer_rpc")]
        height: Option<u64>,
        /// A consumer node's CometBFT RPC: where --height is read, and where the infraction block header
        /// (which ICS requires and Aegis checks only for its chain id) comes from; without it none is sent.
        #[arg(long)]
        consumer_rpc: Option<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Args)]
pub struct KeyArgs {
    /// The consumer key: 64 hex characters or base64 of 32 bytes.
    #[arg(long)]
    consumer_key: Option<String>,
    /// Read the consumer key from a CometBFT priv_validator_key.json.
    #[arg(long, conflicts_with = "consumer_key")]
    consumer_key_file: Option<std::path::PathBuf>,
}

impl KeyArgs {
    fn resolve(&self) -> Result<String> {
        if let Some(k) = &self.consumer_key {
            return Ok(k.clone());
        }
        let Some(path) = &self.consumer_key_file else { return Ok(String::new()) };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
        v["pub_key"]["value"].as_str().map(str::to_string).ok_or_else(|| anyhow!("{} has no pub_key.value", path.display()))
    }
}

#[derive(Subcommand)]
pub enum ProviderQueryCmd {
    /// One consumer chain: phase, parameters, client and channel.
    Consumer {
        consumer_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every consumer chain.
    Consumers(NodeArgs),
    /// The consumer genesis (ICS's ConsumerGenesisState JSON): the `consumer` section of an Aegis consumer's app_state, or `ccvconsumer` of an ICS consumer's.
    ConsumerGenesis {
        consumer_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The validator set last sent to a consumer.
    ConsumerValidators {
        consumer_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A consumer's undistributed rewards and what each of its validators earned.
    ConsumerRewards {
        consumer_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The consumers an operator has opted in to, with its key and power on each.
    OperatorConsumers {
        operator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn parse_pair(s: &str, what: &str) -> Result<(String, String)> {
    let (d, v) = s.split_once('=').ok_or_else(|| anyhow!("{what} {s:?}: write DENOM=VALUE"))?;
    aegis_app::types::validate_denom(d).map_err(|e| anyhow!("{what} {s:?}: {e}"))?;
    Ok((d.to_string(), v.to_string()))
}

async fn latest_time(grpc: &str) -> Result<i64> {
    let (_, nanos) = client::GrpcClient::connect(grpc).await?.latest_block().await?;
    Ok((nanos / 1_000_000_000) as i64)
}

async fn parameters(a: ConsumerArgs, grpc: &str) -> Result<aegis_proto::aegis::provider::v1::ConsumerParameters> {
    use aegis_proto::aegis::provider::v1 as pb;
    let spawn_time = match a.spawn_time.strip_prefix('+') {
        Some(rel) => latest_time(grpc).await? + rel.parse::<i64>().map_err(|_| anyhow!("--spawn-time {:?}: write Unix seconds or +SECONDS", a.spawn_time))?,
        None => a.spawn_time.parse().map_err(|_| anyhow!("--spawn-time {:?}: write Unix seconds or +SECONDS", a.spawn_time))?,
    };
    let mut strategies = Vec::new();
    for s in &a.strategies {
        let (denom, w) = parse_pair(s, "--strategy")?;
        let weight = parse_wad_fraction_any(&w).map_err(|e| anyhow!("--strategy {s}: {e}"))?;
        strategies.push(pb::StrategyWeight { denom, weight_bps: u32::try_from(weight / 100_000_000_000_000).map_err(|_| anyhow!("--strategy {s}: weight too large"))? });
    }
    let fraction = |flag: &str, v: &str| -> Result<String> { Ok(parse_wad_fraction(v).map_err(|e| anyhow!("{flag}: {e}"))?.to_string()) };
    Ok(pb::ConsumerParameters {
        chain_id: a.chain_id,
        metadata: Some(pb::ConsumerMetadata { name: a.name, description: a.description, metadata: String::new() }),
        spawn_time,
        power_shaping: Some(pb::PowerShaping {
            min_stake: a.min_stake.to_string(),
            max_validators: a.max_validators,
            power_cap_percent: a.power_cap_percent,
            allowlist: addrs(&a.allowlist)?,
            denylist: addrs(&a.denylist)?,
        }),
        strategies,
        reward_fraction: a.reward_fraction,
        infractions: Some(pb::InfractionParameters {
            double_sign_fraction: fraction("--double-sign-fraction", &a.double_sign_fraction)?,
            downtime_fraction: fraction("--downtime-fraction", &a.downtime_fraction)?,
            downtime_jail_seconds: a.downtime_jail_seconds,
        }),
        unbonding_period_seconds: a.unbonding_seconds,
        commission_bps: a.commission_bps,
        proof_specs: a.proof_specs,
        blocks_per_distribution_transmission: a.blocks_per_distribution_transmission,
    })
}

/// A positive decimal weight (may exceed 1), as a WAD.
fn parse_wad_fraction_any(s: &str) -> Result<u128> {
    aegis_app::math::parse_decimal_wad(s).filter(|w| *w > 0).ok_or_else(|| anyhow!("{s:?} is not a positive decimal, e.g. 1 or 0.5"))
}

pub async fn tx(cmd: ProviderTx, home: &Path) -> Result<()> {
    use aegis_app::provider::msgs::*;
    use aegis_proto::aegis::provider::v1 as pb;
    match cmd {
        ProviderTx::CreateConsumer { consumer, tx } => {
            let parameters = parameters(*consumer, &tx.node.grpc).await?;
            run_tx(&tx, home, |s| vec![pack(MSG_CREATE_CONSUMER_URL, &pb::MsgCreateConsumer { owner: s.address.to_string(), parameters: Some(parameters) })]).await
        }
        ProviderTx::UpdateConsumer { consumer_id, consumer, new_owner, tx } => {
            let parameters = parameters(*consumer, &tx.node.grpc).await?;
            let new_owner = new_owner.map(|o| addr(&o).map(|a| a.to_string())).transpose()?.unwrap_or_default();
            run_tx(&tx, home, |s| {
                vec![pack(MSG_UPDATE_CONSUMER_URL, &pb::MsgUpdateConsumer { owner: s.address.to_string(), consumer_id, parameters: Some(parameters), new_owner })]
            })
            .await
        }
        ProviderTx::RemoveConsumer { consumer_id, tx } => {
            run_tx(&tx, home, |s| vec![pack(MSG_REMOVE_CONSUMER_URL, &pb::MsgRemoveConsumer { owner: s.address.to_string(), consumer_id })]).await
        }
        ProviderTx::OptIn { consumer_id, key, allocations, tx } => {
            let consumer_key = key.resolve()?;
            let mut allocs = Vec::new();
            for a in &allocations {
                let (strategy, f) = parse_pair(a, "--allocate")?;
                let magnitude = parse_wad_fraction(&f).map_err(|e| anyhow!("--allocate {a}: {e}"))?;
                allocs.push(aegis_proto::aegis::avs::v1::AllocateParams { avs_id: consumer_id, operator_set_id: 0, strategy, magnitude: magnitude.to_string() });
            }
            run_tx(&tx, home, |s| {
                let mut msgs = vec![pack(MSG_OPT_IN_URL, &pb::MsgOptIn { operator: s.address.to_string(), consumer_id, consumer_key })];
                if !allocs.is_empty() {
                    msgs.push(pack(
                        aegis_app::avs::msgs::MSG_MODIFY_ALLOCATIONS_URL,
                        &aegis_proto::aegis::avs::v1::MsgModifyAllocations { operator: s.address.to_string(), allocations: allocs },
                    ));
                }
                msgs
            })
            .await
        }
        ProviderTx::OptOut { consumer_id, tx } => {
            run_tx(&tx, home, |s| vec![pack(MSG_OPT_OUT_URL, &pb::MsgOptOut { operator: s.address.to_string(), consumer_id })]).await
        }
        ProviderTx::Unjail { consumer_id, tx } => {
            run_tx(&tx, home, |s| vec![pack(MSG_UNJAIL_URL, &pb::MsgUnjail { operator: s.address.to_string(), consumer_id })]).await
        }
        ProviderTx::AssignKey { consumer_id, key, tx } => {
            let consumer_key = key.resolve()?;
            if consumer_key.is_empty() {
                bail!("give --consumer-key or --consumer-key-file");
            }
            run_tx(&tx, home, |s| vec![pack(MSG_ASSIGN_CONSUMER_KEY_URL, &pb::MsgAssignConsumerKey { operator: s.address.to_string(), consumer_id, consumer_key })])
                .await
        }
        ProviderTx::SubmitDoubleVoting { consumer_id, evidence_file, height, consumer_rpc, tx } => {
            use aegis_node::relayer::evidence;
            use tendermint_rpc::Client;
            let rpc = consumer_rpc.as_deref().map(|u| tendermint_rpc::HttpClient::new(u).with_context(|| format!("--consumer-rpc {u}"))).transpose()?;
            let found = match (&evidence_file, height, &rpc) {
                (Some(path), _, _) => {
                    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                    evidence::parse_json(&text).with_context(|| format!("{}", path.display()))?
                }
                (None, Some(h), Some(rpc)) => evidence::duplicate_votes_at(rpc, h).await?,
                _ => bail!("give --evidence-file, or --height with --consumer-rpc"),
            };
            if found.is_empty() {
                bail!("no duplicate-vote evidence found");
            }
            let mut headers = Vec::with_capacity(found.len());
            for e in &found {
                headers.push(match &rpc {
                    Some(rpc) => {
                        let revision = ibc_core::host::types::identifiers::ChainId::new(rpc.status().await?.node_info.network.as_str())
                            .map(|c| c.revision_number())
                            .unwrap_or(0);
                        let h = e.vote_a.as_ref().map_or(0, |v| v.height).max(1) as u64;
                        Some(evidence::infraction_header(rpc, revision, h).await?)
                    }
                    None => None,
                });
            }
            run_tx(&tx, home, |s| found.into_iter().zip(headers).map(|(e, h)| evidence::submit_msg(&s.address.to_string(), consumer_id, e, h)).collect()).await
        }
    }
}

fn consumer_json(c: &aegis_proto::aegis::provider::v1::Consumer) -> serde_json::Value {
    let p = c.parameters.clone().unwrap_or_default();
    let shaping = p.power_shaping.clone().unwrap_or_default();
    let inf = p.infractions.clone().unwrap_or_default();
    serde_json::json!({
        "consumer_id": c.consumer_id,
        "chain_id": p.chain_id,
        "owner": c.owner,
        "phase": c.phase,
        "name": p.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
        "spawn_time": p.spawn_time,
        "strategies": p.strategies.iter().map(|s| serde_json::json!({"denom": s.denom, "weight_bps": s.weight_bps})).collect::<Vec<_>>(),
        "min_stake": shaping.min_stake,
        "max_validators": shaping.max_validators,
        "power_cap_percent": shaping.power_cap_percent,
        "allowlist": shaping.allowlist,
        "denylist": shaping.denylist,
        "reward_fraction": p.reward_fraction,
        "double_sign_fraction_wad": inf.double_sign_fraction,
        "downtime_fraction_wad": inf.downtime_fraction,
        "downtime_jail_seconds": inf.downtime_jail_seconds,
        "unbonding_period_seconds": p.unbonding_period_seconds,
        "commission_bps": p.commission_bps,
        "proof_specs": p.proof_specs,
        "blocks_per_distribution_transmission": p.blocks_per_distribution_transmission,
        "client_id": c.client_id,
        "channel_id": c.channel_id,
        "launch_height": c.launch_height,
        "stopped_at": c.stopped_at,
        "valset_update_id": c.valset_update_id,
        "opted_in": c.opted_in,
    })
}

pub async fn query(cmd: ProviderQueryCmd) -> Result<()> {
    use aegis_proto::aegis::provider::v1 as pb;
    match cmd {
        ProviderQueryCmd::Consumer { consumer_id, node } => {
            let r = client::GrpcClient::connect(&node.grpc).await?.provider().consumer(pb::QueryConsumerRequest { consumer_id }).await?.into_inner();
            print_json(serde_json::json!({"consumer": r.consumer.as_ref().map(consumer_json)}));
        }
        ProviderQueryCmd::Consumers(node) => {
            let r = client::GrpcClient::connect(&node.grpc).await?.provider().consumers(pb::QueryConsumersRequest {}).await?.into_inner();
            print_json(serde_json::json!({"consumers": r.consumers.iter().map(consumer_json).collect::<Vec<_>>()}));
        }
        ProviderQueryCmd::ConsumerGenesis { consumer_id, node } => {
            let r = client::GrpcClient::connect(&node.grpc).await?.provider().consumer_genesis(pb::QueryConsumerGenesisRequest { consumer_id }).await?.into_inner();
            println!("{}", r.genesis_json);
        }
        ProviderQueryCmd::ConsumerValidators { consumer_id, node } => {
            let r =
                client::GrpcClient::connect(&node.grpc).await?.provider().consumer_validators(pb::QueryConsumerValidatorsRequest { consumer_id }).await?.into_inner();
            let vals: Vec<_> = r
                .validators
                .iter()
                .map(|v| serde_json::json!({"operator": v.operator, "consumer_key": v.consumer_key, "consumer_address": v.consumer_address, "power": v.power}))
                .collect();
            print_json(serde_json::json!({"validators": vals}));
        }
        ProviderQueryCmd::ConsumerRewards { consumer_id, node } => {
            let r = client::GrpcClient::connect(&node.grpc).await?.provider().consumer_rewards(pb::QueryConsumerRewardsRequest { consumer_id }).await?.into_inner();
            let coins = |c: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin]| c.iter().map(|c| format!("{}{}", c.amount, c.denom)).collect::<Vec<_>>();
            let ops: Vec<_> = r.operators.iter().map(|o| serde_json::json!({"operator": o.operator, "earned": coins(&o.earned)})).collect();
            print_json(serde_json::json!({"undistributed": coins(&r.undistributed), "operators": ops}));
        }
        ProviderQueryCmd::OperatorConsumers { operator, node } => {
            let operator = addr(&operator)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.provider().operator_consumers(pb::QueryOperatorConsumersRequest { operator }).await?.into_inner();
            let list: Vec<_> =
                r.opt_ins
                    .iter()
                    .map(|o| {
                        serde_json::json!({"consumer_id": o.consumer_id, "consumer_key": o.consumer_key, "power": o.power, "jailed_until": o.jailed_until, "tombstoned": o.tombstoned})
                    })
                    .collect();
            print_json(serde_json::json!({"opt_ins": list}));
        }
    }
    Ok(())
}
