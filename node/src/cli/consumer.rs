//! Consumer-chain commands: `consumer join` (an operator joins a consumer
//! chain in one command: its node home and consensus key, the opt-in with
//! that key and its allocation in one provider transaction, the genesis
//! once launched) and `query consumer status` (the consumer module's view
//! of its CCV channel and validator set, from a consumer chain's node).

use std::path::{Path, PathBuf};
use std::time::Duration;

use aegis_app::signer::pack;
use aegis_node::testnet::consumer as homes;
use aegis_node::{client, keys};
use anyhow::{anyhow, bail, Context, Result};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use clap::{Args, Subcommand};
use serde_json::Value;

use super::common::{parse_wad_fraction, print_json, submit_quiet, NodeArgs, TxArgs};

#[derive(Subcommand)]
pub enum ConsumerCmd {
    /// Join a consumer chain as a validator: create the consumer node's home (--home) with a new consensus
    /// key, opt in with it and allocate stake in one provider transaction, and write the genesis once the
    /// consumer has launched (run it again after launch: nothing is sent twice). Prints how to start the node.
    Join(JoinArgs),
}

#[derive(Args)]
pub struct JoinArgs {
    /// The consumer's id on the provider.
    consumer_id: u64,
    /// Stake to allocate to the consumer: strategy and the fraction of your stake in it, a decimal from 0 to 1 (not WAD), e.g. uaegis=0.5. Repeat for several.
    #[arg(long = "allocate", value_name = "DENOM=FRACTION")]
    allocations: Vec<String>,
    /// The keyring holding --from (the operator's key); default: --home.
    #[arg(long)]
    keyring_home: Option<PathBuf>,
    /// CometBFT peers of the consumer node (id@host:port, comma-separated).
    #[arg(long)]
    peers: Option<String>,
    /// The consumer chain's genesis.json: a file, or a consumer node's CometBFT RPC (http://host:port), which
    /// also gives a peer. Without it the genesis is built from the provider's consumer genesis alone.
    #[arg(long)]
    genesis: Option<String>,
    /// Ports of the new node: REST API base+54, metrics +55, p2p +56, RPC +57, ABCI +58, gRPC +59.
    #[arg(long, default_value_t = 26600)]
    base_port: u16,
    /// The node's moniker (default: the --from key's name).
    #[arg(long)]
    moniker: Option<String>,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Subcommand)]
pub enum ConsumerQueryCmd {
    /// This consumer chain's CCV status: provider client, CCV channel and its state, validator set, last valset update id, params.
    Status(NodeArgs),
}

pub async fn query(cmd: ConsumerQueryCmd) -> Result<()> {
    use aegis_proto::aegis::consumer::v1 as pb;
    match cmd {
        ConsumerQueryCmd::Status(node) => {
            let c = client::GrpcClient::connect(&node.grpc).await?;
            let r: pb::QueryStatusResponse = c.query("/aegis.consumer.v1.Query/Status", &pb::QueryStatusRequest {}).await?;
            let p = r.params.unwrap_or_default();
            print_json(serde_json::json!({
                "provider_client_id": r.provider_client_id,
                "ccv_channel_id": r.ccv_channel_id,
                "ccv_channel_state": r.ccv_channel_state,
                "provider_fee_pool_addr": r.provider_fee_pool_addr,
                "validators": r.validators.iter().map(|v| serde_json::json!({"pubkey": v.pubkey, "power": v.power.to_string()})).collect::<Vec<_>>(),
                "total_power": r.total_power.to_string(),
                "last_valset_update_id": r.last_valset_update_id.to_string(),
                "params": {
                    "enabled": p.enabled,
                    "unbonding_period_seconds": p.unbonding_period_seconds.to_string(),
                    "ccv_timeout_period_seconds": p.ccv_timeout_period_seconds.to_string(),
                    "transfer_timeout_period_seconds": p.transfer_timeout_period_seconds.to_string(),
                    "blocks_per_distribution_transmission": p.blocks_per_distribution_transmission.to_string(),
                    "distribution_transmission_channel": p.distribution_transmission_channel,
                    "provider_fee_pool_addr_str": p.provider_fee_pool_addr_str,
                    "consumer_redistribution_fraction": p.consumer_redistribution_fraction,
                    "historical_entries": p.historical_entries.to_string(),
                    "reward_denoms": p.reward_denoms,
                    "provider_reward_denoms": p.provider_reward_denoms,
                    "retry_delay_period_seconds": p.retry_delay_period_seconds.to_string(),
                },
            }));
        }
    }
    Ok(())
}

pub async fn run(cmd: ConsumerCmd, home: &Path) -> Result<()> {
    match cmd {
        ConsumerCmd::Join(a) => join(a, home).await,
    }
}

async fn consumer(c: &client::GrpcClient, id: u64) -> Result<aegis_proto::aegis::provider::v1::Consumer> {
    use aegis_proto::aegis::provider::v1 as pb;
    let r = c.provider().consumer(pb::QueryConsumerRequest { consumer_id: id }).await.with_context(|| format!("consumer {id} on the provider"))?.into_inner();
    r.consumer.ok_or_else(|| anyhow!("consumer {id} does not exist on the provider"))
}

async fn join(a: JoinArgs, home: &Path) -> Result<()> {
    use aegis_proto::aegis::provider::v1 as pb;
    let id = a.consumer_id;
    let keyring_home = a.keyring_home.clone().unwrap_or_else(|| home.to_path_buf());
    let signer = keys::Keyring::open(&keyring_home)
        .signer(&a.tx.from)
        .with_context(|| format!("the operator key {:?} in {}/keyring (--keyring-home names another keyring)", a.tx.from, keyring_home.display()))?;
    let c = client::GrpcClient::connect(&a.tx.node.grpc).await?;
    let cons = consumer(&c, id).await?;
    let chain_id = cons.parameters.as_ref().map(|p| p.chain_id.clone()).unwrap_or_default();
    if !matches!(cons.phase.as_str(), "registered" | "launched") {
        bail!("consumer {id} ({chain_id}) is {}: only a registered or launched consumer can be joined", cons.phase);
    }
    let mut allocations = Vec::new();
    for s in &a.allocations {
        let (strategy, f) = s.split_once('=').ok_or_else(|| anyhow!("--allocate {s:?}: write DENOM=FRACTION, e.g. uaegis=0.5"))?;
        let magnitude = parse_wad_fraction(f).map_err(|e| anyhow!("--allocate {s}: {e}"))?;
        allocations.push(aegis_proto::aegis::avs::v1::AllocateParams { avs_id: id, operator_set_id: 0, strategy: strategy.into(), magnitude: magnitude.to_string() });
    }

    // The genesis source first: a bad --genesis should fail before anything is sent.
    let source = match &a.genesis {
        Some(g) => Some(GenesisSource::read(g).await?),
        None => None,
    };
    // A home of another chain (the provider node's, say) must not lend its key.
    if let Ok(text) = std::fs::read_to_string(home.join("config").join("genesis.json")) {
        let other = serde_json::from_str::<Value>(&text).ok().and_then(|g| g["chain_id"].as_str().map(str::to_string)).unwrap_or_default();
        if other != chain_id {
            bail!("{} is a node home of chain {other:?}, not of consumer {id} ({chain_id}): give --home a new directory", home.display());
        }
    }
    let peers = a.peers.clone().or_else(|| source.as_ref().and_then(|s| s.peer.clone()));
    let moniker = a.moniker.clone().unwrap_or_else(|| a.tx.from.clone());
    let created = homes::write_join_home(home, &moniker, a.base_port, peers.as_deref())?;
    let key_b64 = homes::consensus_key(home)?;
    let key_hex = hex::encode(B64.decode(&key_b64).context("the consensus key is not base64")?);
    println!("{} consumer node home {} (consensus key {key_b64})", if created { "created" } else { "using the existing" }, home.display());

    // One transaction: opt in with the key (or assign it, if opted in with another) and allocate.
    let opt_ins = c.provider().operator_consumers(pb::QueryOperatorConsumersRequest { operator: signer.address.to_string() }).await?.into_inner().opt_ins;
    let current = opt_ins.iter().find(|o| o.consumer_id == id).map(|o| o.consumer_key.to_lowercase());
    let operator = signer.address.to_string();
    let mut msgs = Vec::new();
    match &current {
        None => msgs.push(pack(aegis_app::provider::msgs::MSG_OPT_IN_URL, &pb::MsgOptIn { operator: operator.clone(), consumer_id: id, consumer_key: key_hex.clone() })),
        Some(k) if *k != key_hex => msgs.push(pack(
            aegis_app::provider::msgs::MSG_ASSIGN_CONSUMER_KEY_URL,
            &pb::MsgAssignConsumerKey { operator: operator.clone(), consumer_id: id, consumer_key: key_hex.clone() },
        )),
        Some(_) => println!("{operator} is already opted in to consumer {id} with this key"),
    }
    if !allocations.is_empty() {
        msgs.push(pack(aegis_app::avs::msgs::MSG_MODIFY_ALLOCATIONS_URL, &aegis_proto::aegis::avs::v1::MsgModifyAllocations { operator: operator.clone(), allocations }));
    }
    if !msgs.is_empty() {
        let Some(r) = submit_quiet(&a.tx, &c, &signer, msgs).await.context("the opt-in transaction")? else {
            println!("the opt-in transaction was not committed by this command; run it again once it is");
            return Ok(());
        };
        let what = match &current {
            None => "opted in",
            Some(k) if *k != key_hex => "assigned the new key",
            Some(_) => "changed allocations",
        };
        println!("{what} on the provider: tx {} at height {}{}", r.txhash, r.height, if a.allocations.is_empty() { String::new() } else { format!(", allocating {}", a.allocations.join(", ")) });
    }

    let cons = consumer(&c, id).await?;
    if cons.phase != "launched" {
        let spawn = cons.parameters.as_ref().map(|p| p.spawn_time).unwrap_or_default();
        let (_, now_ns) = c.latest_block().await?;
        let left = spawn - (now_ns / 1_000_000_000) as i64;
        println!(
            "consumer {id} ({chain_id}) has not launched: it launches at the first provider epoch end after its spawn time {spawn} ({}) with at least one eligible opted-in operator (allocations count after the allocation delay).",
            if left > 0 { format!("in {left} s") } else { "passed".into() }
        );
        println!("run this command again after the launch to write {}/config/genesis.json (nothing is sent twice)", home.display());
        return Ok(());
    }
    let provider_json = c.provider().consumer_genesis(pb::QueryConsumerGenesisRequest { consumer_id: id }).await?.into_inner().genesis_json;
    let genesis = match source {
        Some(s) => s.checked(&chain_id, &provider_json)?,
        None => {
            println!("building genesis.json from the provider's consumer genesis alone (no accounts, genesis time = launch time); give --genesis if the consumer's developer published one");
            homes::genesis_from_provider(&chain_id, &provider_json)?
        }
    };
    let path = home.join("config").join("genesis.json");
    std::fs::write(&path, serde_json::to_string_pretty(&genesis)?).with_context(|| format!("writing {}", path.display()))?;
    let cfg = aegis_node::config::AppConfig::load(home)?;
    println!("wrote {} for {chain_id} (launched at provider height {})", path.display(), cons.launch_height);
    if peers.is_none() {
        println!("no peers configured: set persistent_peers in {}/config/config.toml or run again with --peers", home.display());
    }
    println!("start the consumer node (two processes):");
    println!("  aegisd start --home {}      # ABCI {}, gRPC {}", home.display(), cfg.abci_listen, cfg.grpc_listen);
    println!("  cometbft node --home {}", home.display());
    println!("it signs with the new key once the provider's next epoch end sends the change and a relayer delivers it (see `aegisd query provider consumer-validators {id}`)");
    Ok(())
}

/// A consumer genesis.json from a file or a consumer node's RPC.
struct GenesisSource {
    genesis: Value,
    /// The node's p2p address, when read from its RPC.
    peer: Option<String>,
}

impl GenesisSource {
    async fn read(src: &str) -> Result<Self> {
        if src.starts_with("http://") {
            let base = src.trim_end_matches('/');
            let g = http_get_json(&format!("{base}/genesis")).await?;
            let genesis = g["result"]["genesis"].clone();
            if !genesis.is_object() {
                bail!("{base}/genesis returned no genesis (a chunked genesis is not supported: save it to a file)");
            }
            let status = http_get_json(&format!("{base}/status")).await?;
            let info = &status["result"]["node_info"];
            let peer = match (info["id"].as_str(), info["listen_addr"].as_str()) {
                (Some(id), Some(addr)) => {
                    let addr = addr.trim_start_matches("tcp://");
                    let host = base.trim_start_matches("http://").rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1");
                    let addr = match addr.rsplit_once(':') {
                        Some(("0.0.0.0", port)) => format!("{host}:{port}"),
                        _ => addr.to_string(),
                    };
                    Some(format!("{id}@{addr}"))
                }
                _ => None,
            };
            return Ok(GenesisSource { genesis, peer });
        }
        if src.starts_with("https://") {
            bail!("--genesis {src}: only http:// RPC addresses are fetched; save the genesis to a file and pass its path");
        }
        let text = std::fs::read_to_string(src).with_context(|| format!("reading --genesis {src}"))?;
        Ok(GenesisSource { genesis: serde_json::from_str(&text).with_context(|| format!("--genesis {src} is not JSON"))?, peer: None })
    }

    /// The genesis, if it is `chain_id`'s and carries exactly the
    /// provider's consumer genesis.
    fn checked(self, chain_id: &str, provider_json: &str) -> Result<Value> {
        let g = self.genesis;
        if g["chain_id"].as_str() != Some(chain_id) {
            bail!("the given genesis is for chain {}, the consumer is {chain_id}", g["chain_id"]);
        }
        let (want, _) = homes::parse_ccv(provider_json)?;
        let have: aegis_app::ccv::ConsumerGenesis =
            serde_json::from_value(g["app_state"]["consumer"].clone()).context("the given genesis has no consumer section (app_state.consumer)")?;
        if have != want {
            bail!("the given genesis's consumer section differs from the provider's consumer genesis: it is not this consumer's genesis");
        }
        Ok(g)
    }
}

/// GET an http:// URL (HTTP/1.0, as CometBFT's RPC serves it) as JSON.
async fn http_get_json(url: &str) -> Result<Value> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.trim_start_matches("http://");
    let (hostport, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = tokio::time::timeout(Duration::from_secs(10), tokio::net::TcpStream::connect(hostport))
        .await
        .map_err(|_| anyhow!("connecting to {hostport}: timed out"))?
        .with_context(|| format!("connecting to {hostport}"))?;
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {hostport}\r\n\r\n").as_bytes()).await?;
    let mut body = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut body)).await.map_err(|_| anyhow!("reading {url}: timed out"))??;
    let text = String::from_utf8_lossy(&body);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| anyhow!("{url}: not an HTTP response"))?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        bail!("{url}: {}", head.lines().next().unwrap_or_default());
    }
    serde_json::from_str(body).with_context(|| format!("{url} did not return JSON"))
}
