//! aegisd: the Aegis node (`start`) and its command-line client.

use aegis_node::{client, config, keys, start, testnet};

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use aegis_app::auth::params::MinGasPrice;
use aegis_app::types::{Address, Coins};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Parser, Subcommand};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

#[derive(Parser)]
#[command(name = "aegisd", version, about = "Aegis: a restaking application chain (node and client)")]
struct Cli {
    /// Node home directory (config/, data/, keyring/).
    #[arg(long, global = true, env = "AEGIS_HOME", default_value = "~/.aegis")]
    home: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a single-validator node home (CometBFT config, genesis, keys, app.toml).
    Init {
        #[arg(long, default_value = "aegis-local")]
        chain_id: String,
        /// Ports: metrics base+55, p2p +56, RPC +57, ABCI +58, gRPC +59.
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
    },
    /// Run the ABCI and gRPC servers (start CometBFT next to it).
    Start,
    /// Generate local multi-validator networks.
    #[command(subcommand)]
    Testnet(TestnetCmd),
    /// Manage keys in <home>/keyring.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Sign and broadcast transactions.
    #[command(subcommand)]
    Tx(TxCmd),
    /// Query chain state over gRPC.
    #[command(subcommand)]
    Query(QueryCmd),
    /// Show the node's chain id, height and sync status.
    Status(NodeArgs),
}

#[derive(Subcommand)]
enum TestnetCmd {
    /// Write N validator homes, a shared genesis and endpoints.json.
    Generate {
        #[arg(long, default_value_t = 4)]
        validators: usize,
        #[arg(long)]
        output: PathBuf,
        #[arg(long, default_value = "aegis-devnet")]
        chain_id: String,
        /// Node i uses metrics base+55+10i, p2p +56, RPC +57, ABCI +58, gRPC +59.
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Create a key; prints its mnemonic once. With --recover, reads a mnemonic from stdin.
    Add {
        name: String,
        #[arg(long)]
        recover: bool,
    },
    /// Import a key from a BIP39 mnemonic read from stdin.
    Import { name: String },
    /// Print a key's mnemonic (keep it secret).
    Export { name: String },
    /// List keys and addresses.
    List,
    /// Show a key's address.
    Show { name: String },
}

#[derive(Args, Clone)]
struct NodeArgs {
    /// gRPC endpoint of a node.
    #[arg(long, env = "AEGIS_GRPC", default_value = "http://127.0.0.1:9090")]
    grpc: String,
}

#[derive(Args, Clone)]
struct TxArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// Name of the signing key in the keyring.
    #[arg(long)]
    from: String,
    /// Gas limit; simulated (x1.3) when omitted.
    #[arg(long)]
    gas: Option<u64>,
    /// Price per gas; the fee is gas limit x price, rounded up.
    #[arg(long, default_value = "0.025uaegis")]
    gas_prices: String,
    #[arg(long, default_value = "")]
    memo: String,
    /// Return after CheckTx instead of waiting for the block.
    #[arg(long)]
    no_wait: bool,
}

#[derive(Subcommand)]
enum TxCmd {
    #[command(subcommand)]
    Bank(BankTx),
}

#[derive(Subcommand)]
enum BankTx {
    /// Send coins, e.g. `aegisd tx bank send --from faucet aegis1... 1000uaegis`.
    Send {
        to: String,
        /// Comma-separated coins, e.g. 1000uaegis,5ustake.
        amount: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
enum QueryCmd {
    #[command(subcommand)]
    Bank(BankQueryCmd),
    /// An account's number, sequence and public key.
    Account {
        address: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Subcommand)]
enum BankQueryCmd {
    /// Balances of an address (all denoms, or one with --denom).
    Balances {
        address: String,
        #[arg(long)]
        denom: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn parse_coins(s: &str) -> Result<Coins> {
    let mut protos = vec![];
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let split = part.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| anyhow!("coin {part:?} has no denom"))?;
        protos.push(ProtoCoin { denom: part[split..].to_string(), amount: part[..split].to_string() });
    }
    protos.sort_by(|a, b| a.denom.cmp(&b.denom));
    Coins::from_proto(&protos).map_err(|e| anyhow!("{e}"))
}

fn read_stdin_mnemonic() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    Ok(s.trim().to_string())
}

fn print_json(v: serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(&v).expect("json"));
}

async fn run_tx(tx: &TxArgs, home: &std::path::Path, msgs: impl FnOnce(&aegis_app::signer::Signer) -> Vec<cosmrs::Any>) -> Result<()> {
    let signer = keys::Keyring::open(home).signer(&tx.from)?;
    let gas_price = MinGasPrice::parse(&tx.gas_prices).map_err(|e| anyhow!("--gas-prices: {e}"))?;
    let c = client::GrpcClient::connect(&tx.node.grpc).await?;
    let bytes = c.sign(&signer, msgs(&signer), tx.gas, &gas_price, &tx.memo).await?;
    let r = c.broadcast(bytes).await?;
    if r.code != 0 || tx.no_wait {
        print_json(serde_json::json!({"txhash": r.txhash, "code": r.code, "codespace": r.codespace, "raw_log": r.raw_log}));
        if r.code != 0 {
            bail!("rejected by CheckTx: {} (code {} in {})", r.raw_log, r.code, r.codespace);
        }
        return Ok(());
    }
    let r = c.wait_for_tx(&r.txhash, Duration::from_secs(30)).await?;
    print_json(serde_json::json!({
        "txhash": r.txhash, "height": r.height, "code": r.code, "codespace": r.codespace,
        "raw_log": r.raw_log, "gas_wanted": r.gas_wanted, "gas_used": r.gas_used,
    }));
    if r.code != 0 {
        bail!("tx failed: {} (code {} in {})", r.raw_log, r.code, r.codespace);
    }
    Ok(())
}

async fn run(cli: Cli) -> Result<()> {
    let home = config::expand_home(&cli.home);
    match cli.cmd {
        Cmd::Init { chain_id, base_port } => testnet::init(&home, &chain_id, base_port),
        Cmd::Start => start::start(&home).await,
        Cmd::Testnet(TestnetCmd::Generate { validators, output, chain_id, base_port }) => testnet::generate(validators, &output, &chain_id, base_port),
        Cmd::Keys(k) => {
            let kr = keys::Keyring::open(&home);
            match k {
                KeysCmd::Add { name, recover } => {
                    let mnemonic = if recover {
                        read_stdin_mnemonic()?
                    } else {
                        let mut entropy = [0u8; 32];
                        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut entropy);
                        aegis_app::signer::Signer::generate_mnemonic(entropy)
                    };
                    let s = kr.store(&name, &mnemonic)?;
                    if recover {
                        print_json(serde_json::json!({"name": name, "address": s.address.to_string()}));
                    } else {
                        print_json(serde_json::json!({"name": name, "address": s.address.to_string(), "mnemonic": mnemonic}));
                        eprintln!("Write the mnemonic down: it is the only way to recover this key.");
                    }
                    Ok(())
                }
                KeysCmd::Import { name } => {
                    let s = kr.store(&name, &read_stdin_mnemonic()?)?;
                    print_json(serde_json::json!({"name": name, "address": s.address.to_string()}));
                    Ok(())
                }
                KeysCmd::Export { name } => {
                    eprintln!("Anyone with this mnemonic controls the account.");
                    println!("{}", kr.mnemonic(&name)?);
                    Ok(())
                }
                KeysCmd::List => {
                    let keys: Vec<_> = kr.list()?.into_iter().map(|(n, a)| serde_json::json!({"name": n, "address": a})).collect();
                    print_json(serde_json::Value::Array(keys));
                    Ok(())
                }
                KeysCmd::Show { name } => {
                    println!("{}", kr.signer(&name)?.address);
                    Ok(())
                }
            }
        }
        Cmd::Tx(TxCmd::Bank(BankTx::Send { to, amount, tx })) => {
            let to = Address::parse(&to).map_err(|e| anyhow!("{e}"))?;
            let coins = parse_coins(&amount)?;
            if coins.is_empty() {
                bail!("nothing to send");
            }
            let coins: Vec<_> = coins.iter().cloned().collect();
            run_tx(&tx, &home, |s| vec![s.msg_send(&to, &coins)]).await
        }
        Cmd::Query(QueryCmd::Bank(BankQueryCmd::Balances { address, denom, node })) => {
            let addr = Address::parse(&address).map_err(|e| anyhow!("{e}"))?;
            let c = client::GrpcClient::connect(&node.grpc).await?;
            match denom {
                Some(d) => print_json(serde_json::json!({"denom": d, "amount": c.balance(&addr, &d).await?.to_string()})),
                None => {
                    let coins: Vec<_> = c.all_balances(&addr).await?.iter().map(|c| serde_json::json!({"denom": c.denom, "amount": c.amount.to_string()})).collect();
                    print_json(serde_json::json!({"balances": coins}));
                }
            }
            Ok(())
        }
        Cmd::Query(QueryCmd::Account { address, node }) => {
            let addr = Address::parse(&address).map_err(|e| anyhow!("{e}"))?;
            let c = client::GrpcClient::connect(&node.grpc).await?;
            let acc = c.account(&addr).await?.ok_or_else(|| anyhow!("account {addr} not found"))?;
            let pk = acc.pub_key.map(|k| {
                let key = <cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey as prost::Message>::decode(k.value.as_slice()).map(|p| p.key).unwrap_or_default();
                serde_json::json!({"@type": k.type_url, "key": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key)})
            });
            print_json(serde_json::json!({"address": acc.address, "account_number": acc.account_number.to_string(), "sequence": acc.sequence.to_string(), "pub_key": pk}));
            Ok(())
        }
        Cmd::Status(node) => {
            use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::{service_client::ServiceClient, GetLatestBlockRequest, GetNodeInfoRequest, GetSyncingRequest};
            let c = client::GrpcClient::connect(&node.grpc).await?;
            let mut tm = ServiceClient::new(c_channel(&c));
            let info = tm.get_node_info(GetNodeInfoRequest {}).await?.into_inner();
            let syncing = tm.get_syncing(GetSyncingRequest {}).await?.into_inner().syncing;
            let block = tm.get_latest_block(GetLatestBlockRequest {}).await?.into_inner();
            let header = block.block.and_then(|b| b.header);
            let n = info.default_node_info.unwrap_or_default();
            print_json(serde_json::json!({
                "chain_id": n.network, "moniker": n.moniker, "node_id": n.default_node_id,
                "latest_block_height": header.as_ref().map(|h| h.height).unwrap_or(0).to_string(),
                "latest_app_hash": header.as_ref().map(|h| hex::encode_upper(&h.app_hash)).unwrap_or_default(),
                "catching_up": syncing,
                "app_version": info.application_version.map(|v| v.version).unwrap_or_default(),
            }));
            Ok(())
        }
    }
}

fn c_channel(c: &client::GrpcClient) -> tonic::transport::Channel {
    c.channel()
}

fn main() {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("AEGIS_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Err(e) = rt.block_on(run(cli)) {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
