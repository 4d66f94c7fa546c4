//! `aegisd init` and `aegisd testnet generate`: CometBFT homes (config.toml,
//! genesis.json, ed25519 validator and node keys) plus Aegis's app.toml,
//! for one node or a local network on loopback. A generated network's
//! validators are operators in app genesis (consensus key, self-delegation),
//! with stakers delegated to them, liquid-staking strategies to deposit
//! into and short AVS and slashing delays; `aegisd init` writes a plain
//! single-validator chain.

use std::path::{Path, PathBuf};

use aegis_app::auth::genesis::{AuthGenesis, GenesisAccount};
use aegis_app::avs::genesis::AvsGenesis;
use aegis_app::avs::AvsParams;
use aegis_app::bank::genesis::{BankGenesis, GenesisBalance, GenesisCoin};
use aegis_app::delegation::genesis::{DelegationGenesis, GenesisDelegation, GenesisOperator};
use aegis_app::delegation::{DelegationParams, OperatorMetadata};
use aegis_app::restaking::genesis::{GenesisStrategy, RestakingGenesis};
use aegis_app::math::WAD;
use aegis_app::restaking::RestakingParams;
use aegis_app::slashing::genesis::SlashingGenesis;
use aegis_app::slashing::SlashingParams;
use aegis_app::types::NATIVE_DENOM;
use aegis_app::signer::Signer;
use aegis_app::AppGenesis;
use anyhow::{Context, Result};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::AppConfig;
use crate::client_config::ClientConfig;
use crate::keys::{Backend, Keyring};

pub mod consumer;

/// uaegis given to the faucet account of a generated network.
pub const FAUCET_BALANCE: u128 = 1_000_000_000_000_000;
/// uaegis given to each validator's own account (its self-delegation is
/// deposited from it).
pub const VALIDATOR_BALANCE: u128 = 1_000_000_000_000;
/// CometBFT voting power of the validator of `aegisd init` (which has no
/// operator in app genesis, so CometBFT's genesis.json decides).
pub const VALIDATOR_POWER: u64 = 10;
/// uaegis each validator of `testnet generate` deposits and self-delegates
/// in genesis (power 100000 at the default power reduction of 10^6).
pub const SELF_DELEGATION: u128 = 100_000_000_000;
/// Stakers created by `testnet generate` (named staker0, staker1, ...).
pub const STAKERS: usize = 3;
/// uaegis, and each liquid-staking denom, given to every staker.
pub const STAKER_BALANCE: u128 = 1_000_000_000_000;
/// uaegis staker i deposits in genesis and delegates to validator i % n.
pub const STAKER_DELEGATION: u128 = 10_000_000_000;
/// uaegis given to the IBC relayer's account of a generated network.
pub const RELAYER_BALANCE: u128 = 1_000_000_000_000;
/// Liquid-staking-style denoms minted in genesis and accepted as strategies.
pub const LST_DENOMS: [&str; 2] = ["stuaegis", "uqaegis"];
/// The faucet's balance of each liquid-staking denom.
pub const FAUCET_LST_BALANCE: u128 = 100_000_000_000_000;
/// Deposit cap of each liquid-staking strategy.
pub const LST_DEPOSIT_CAP: u128 = 1_000_000_000_000_000;
/// Operator commission of the generated validators, basis points.
pub const COMMISSION_BPS: u32 = 500;
pub const MAX_COMMISSION_BPS: u32 = 2_000;
pub const MAX_COMMISSION_CHANGE_BPS: u32 = 100;
/// Devnet epochs are short so that validator-set changes show quickly.
pub const DEVNET_BLOCKS_PER_EPOCH: u64 = 5;
/// Devnet withdrawal escrow, seconds of block time (the default of
/// `testnet generate --withdrawal-delay-seconds`). It is also the chain's
/// unbonding period, so IBC clients of the chain trust a header for 2/3 of
/// it: multi-chain devnets use a longer one.
pub const DEVNET_WITHDRAWAL_DELAY_SECONDS: u64 = 20;
/// Devnet AVS allocations: a new allocation takes effect after 5 s; a
/// deallocation stays slashable as long as a withdrawal is escrowed (the
/// app requires at least that); allocation delays change after 20 s.
pub const DEVNET_ALLOCATION_DELAY_SECONDS: u64 = 5;
pub const DEVNET_ALLOCATION_CONFIGURATION_DELAY_SECONDS: u64 = 20;
pub const DEVNET_MAX_STRATEGIES_PER_SET: u32 = 8;
/// Devnet liveness: a validator that signs fewer than half of the last 20
/// blocks is jailed for 10 s and loses 1% of its native magnitude.
pub const DEVNET_SIGNED_BLOCKS_WINDOW: u64 = 20;
pub const DEVNET_MIN_SIGNED_PER_WINDOW: u128 = WAD / 2;
pub const DEVNET_DOWNTIME_JAIL_SECONDS: u64 = 10;
pub const DEVNET_SLASH_FRACTION_DOWNTIME: u128 = WAD / 100;
/// Devnet double signing: 5% of the native magnitude, and a tombstone.
pub const DEVNET_SLASH_FRACTION_DOUBLE_SIGN: u128 = WAD / 20;
/// Most magnitude AVSs together may slash from one operator and strategy per epoch.
pub const DEVNET_MAX_SLASH_PER_EPOCH: u128 = WAD / 2;

/// One generated node: its ports and keys.
pub struct NodeSpec {
    pub moniker: String,
    pub home: PathBuf,
    pub p2p_port: u16,
    pub rpc_port: u16,
    pub abci_port: u16,
    pub grpc_port: u16,
    pub metrics_port: u16,
    pub api_port: u16,
    node_key: ed25519_consensus::SigningKey,
    validator_key: ed25519_consensus::SigningKey,
}

impl NodeSpec {
    /// Ports of node `i` from a base port: REST API base+54+10i, metrics +55, p2p +56, RPC +57, ABCI +58, gRPC +59.
    pub fn new(i: usize, home: PathBuf, base_port: u16) -> Result<Self> {
        let off = base_port.checked_add(56 + 10 * i as u16).context("port out of range; lower --base-port")?;
        let metrics_port = off - 1;
        off.checked_add(3).context("port out of range; lower --base-port")?;
        Ok(NodeSpec {
            moniker: format!("val{i}"),
            home,
            p2p_port: off,
            rpc_port: off + 1,
            abci_port: off + 2,
            grpc_port: off + 3,
            metrics_port,
            api_port: off - 2,
            node_key: random_ed25519(),
            validator_key: random_ed25519(),
        })
    }

    pub fn node_id(&self) -> String {
        hex::encode(&Sha256::digest(self.node_key.verification_key().as_bytes())[..20])
    }

    fn validator_address(&self) -> String {
        hex::encode_upper(&Sha256::digest(self.validator_key.verification_key().as_bytes())[..20])
    }

    fn app_config(&self) -> AppConfig {
        AppConfig {
            abci_listen: format!("127.0.0.1:{}", self.abci_port),
            grpc_listen: format!("127.0.0.1:{}", self.grpc_port),
            cometbft_rpc: format!("http://127.0.0.1:{}", self.rpc_port),
            metrics_listen: format!("127.0.0.1:{}", self.metrics_port),
            api_listen: format!("127.0.0.1:{}", self.api_port),
            ..AppConfig::default()
        }
    }
}

fn random_ed25519() -> ed25519_consensus::SigningKey {
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    ed25519_consensus::SigningKey::from(seed)
}

fn random_mnemonic() -> String {
    let mut entropy = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut entropy);
    Signer::generate_mnemonic(entropy)
}

/// CometBFT's JSON for an ed25519 private key: base64 of seed || public key.
fn priv_key_json(k: &ed25519_consensus::SigningKey) -> serde_json::Value {
    let mut bytes = k.to_bytes().to_vec();
    bytes.extend_from_slice(k.verification_key().as_bytes());
    json!({"type": "tendermint/PrivKeyEd25519", "value": B64.encode(bytes)})
}

fn pub_key_json(k: &ed25519_consensus::SigningKey) -> serde_json::Value {
    json!({"type": "tendermint/PubKeyEd25519", "value": B64.encode(k.verification_key().as_bytes())})
}

fn write_file(path: &Path, contents: &str, private: bool) -> Result<()> {
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn config_toml(node: &NodeSpec, peers: &str) -> String {
    // Only what differs from CometBFT's defaults; it fills in the rest.
    format!(
        r#"# CometBFT configuration written by `aegisd`. Keys not listed take CometBFT's defaults.
proxy_app = "tcp://127.0.0.1:{abci}"
moniker = "{moniker}"

[rpc]
laddr = "tcp://127.0.0.1:{rpc}"

[p2p]
laddr = "tcp://127.0.0.1:{p2p}"
persistent_peers = "{peers}"
addr_book_strict = false
allow_duplicate_ip = true

[mempool]
size = 50000

[consensus]
timeout_propose = "2s"
timeout_commit = "500ms"

[tx_index]
indexer = "kv"

[instrumentation]
prometheus = false
"#,
        abci = node.abci_port,
        moniker = node.moniker,
        rpc = node.rpc_port,
        p2p = node.p2p_port,
    )
}

#[derive(Serialize)]
struct Endpoints {
    chains: Vec<ChainEndpoints>,
}

#[derive(Serialize)]
struct ChainEndpoints {
    chain_id: String,
    role: String,
    nodes: Vec<NodeEndpoints>,
    accounts: Vec<AccountEntry>,
}

#[derive(Serialize)]
struct NodeEndpoints {
    moniker: String,
    rpc: String,
    grpc: String,
    rest: String,
    abci: String,
    metrics: String,
    home: String,
}

#[derive(Serialize)]
struct AccountEntry {
    name: String,
    address: String,
    mnemonic: String,
}

fn chain_endpoints(chain_id: &str, role: &str, nodes: &[NodeSpec], accounts: Vec<NamedAccount>) -> ChainEndpoints {
    ChainEndpoints {
        chain_id: chain_id.to_string(),
        role: role.into(),
        nodes: nodes
            .iter()
            .map(|n| NodeEndpoints {
                moniker: n.moniker.clone(),
                rpc: format!("http://127.0.0.1:{}", n.rpc_port),
                grpc: format!("http://127.0.0.1:{}", n.grpc_port),
                rest: format!("http://127.0.0.1:{}", n.api_port),
                abci: format!("tcp://127.0.0.1:{}", n.abci_port),
                metrics: format!("http://127.0.0.1:{}/metrics", n.metrics_port),
                home: n.home.display().to_string(),
            })
            .collect(),
        accounts: accounts.into_iter().map(|(name, s, mnemonic)| AccountEntry { name, address: s.address.to_string(), mnemonic }).collect(),
    }
}

fn genesis_time_now() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970");
    tendermint::Time::from_unix_timestamp(now.as_secs() as i64, 0).expect("valid time").to_rfc3339()
}

/// A generated account: name, signer and mnemonic.
pub type NamedAccount = (String, Signer, String);

fn coin(denom: &str, amount: u128) -> GenesisCoin {
    GenesisCoin { denom: denom.into(), amount: amount.to_string() }
}

/// Genesis coins must be sorted by denom.
fn sorted(mut coins: Vec<GenesisCoin>) -> Vec<GenesisCoin> {
    coins.sort_by(|a, b| a.denom.cmp(&b.denom));
    coins
}

/// App genesis of a network whose validators are operators: each validator
/// account deposits and self-delegates `SELF_DELEGATION` with its node's
/// consensus key, staker i delegates `STAKER_DELEGATION` to validator i % n,
/// the liquid-staking denoms are minted and accepted as strategies, and
/// epochs, withdrawal, allocation and jail delays are short. Returns the genesis and each
/// validator's power as the app computes it at InitChain.
fn operator_genesis(
    nodes: &[NodeSpec],
    faucet: &Signer,
    validators: &[&Signer],
    stakers: &[&Signer],
    relayer: &Signer,
    withdrawal_delay: u64,
    blocks_per_epoch: u64,
) -> (AppGenesis, Vec<u64>) {
    let delegation_params = DelegationParams { blocks_per_epoch, ..DelegationParams::default() };
    let mut balances = vec![GenesisBalance {
        address: faucet.address.to_string(),
        coins: sorted(std::iter::once(coin(NATIVE_DENOM, FAUCET_BALANCE)).chain(LST_DENOMS.iter().map(|d| coin(d, FAUCET_LST_BALANCE))).collect()),
    }];
    balances.extend(validators.iter().map(|v| GenesisBalance { address: v.address.to_string(), coins: vec![coin(NATIVE_DENOM, VALIDATOR_BALANCE)] }));
    balances.extend(stakers.iter().map(|s| GenesisBalance {
        address: s.address.to_string(),
        coins: sorted(std::iter::once(coin(NATIVE_DENOM, STAKER_BALANCE)).chain(LST_DENOMS.iter().map(|d| coin(d, STAKER_BALANCE))).collect()),
    }));
    balances.push(GenesisBalance { address: relayer.address.to_string(), coins: vec![coin(NATIVE_DENOM, RELAYER_BALANCE)] });
    let mut tokens: Vec<u128> = vec![SELF_DELEGATION; nodes.len()];
    let delegations = stakers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            tokens[i % nodes.len()] += STAKER_DELEGATION;
            GenesisDelegation {
                staker: s.address.to_string(),
                operator: validators[i % nodes.len()].address.to_string(),
                amount: format!("{STAKER_DELEGATION}{NATIVE_DENOM}"),
            }
        })
        .collect();
    let operators = nodes
        .iter()
        .zip(validators)
        .map(|(n, v)| GenesisOperator {
            address: v.address.to_string(),
            metadata: OperatorMetadata { moniker: n.moniker.clone(), ..Default::default() },
            commission_rate_bps: COMMISSION_BPS,
            max_commission_rate_bps: MAX_COMMISSION_BPS,
            max_commission_change_rate_bps: MAX_COMMISSION_CHANGE_BPS,
            consensus_pubkey: B64.encode(n.validator_key.verification_key().as_bytes()),
            self_delegation: format!("{SELF_DELEGATION}{NATIVE_DENOM}"),
        })
        .collect();
    let powers = tokens.iter().map(|t| u64::try_from(t / delegation_params.power_reduction).expect("power fits u64")).collect();
    let mut accounts = vec![faucet];
    accounts.extend(validators);
    accounts.extend(stakers);
    accounts.push(relayer);
    let genesis = AppGenesis {
        auth: AuthGenesis { accounts: accounts.iter().map(|s| GenesisAccount { address: s.address.to_string() }).collect(), ..Default::default() },
        bank: BankGenesis { balances },
        restaking: RestakingGenesis {
            params: RestakingParams { withdrawal_delay_seconds: withdrawal_delay, authority: faucet.address },
            strategies: std::iter::once(GenesisStrategy { denom: NATIVE_DENOM.into(), deposit_cap: None })
                .chain(LST_DENOMS.iter().map(|d| GenesisStrategy { denom: d.to_string(), deposit_cap: Some(LST_DEPOSIT_CAP.to_string()) }))
                .collect(),
        },
        delegation: DelegationGenesis { params: delegation_params, operators, delegations },
        rewards: Default::default(),
        avs: AvsGenesis {
            params: AvsParams {
                default_allocation_delay_seconds: DEVNET_ALLOCATION_DELAY_SECONDS,
                // As long as a withdrawal is escrowed (the app requires at least that).
                deallocation_delay_seconds: withdrawal_delay,
                allocation_configuration_delay_seconds: DEVNET_ALLOCATION_CONFIGURATION_DELAY_SECONDS,
                max_strategies_per_set: DEVNET_MAX_STRATEGIES_PER_SET,
            },
        },
        ibc: Default::default(),
        provider: Default::default(),
        consumer: None,
        slashing: SlashingGenesis { params: devnet_slashing_params() },
    };
    (genesis, powers)
}

/// A devnet's liveness window and slash fractions (short, so downtime shows
/// within seconds). A consumer chain's own liveness tracking, which turns
/// into slash packets for the provider, uses the same window.
pub fn devnet_slashing_params() -> SlashingParams {
    SlashingParams {
        signed_blocks_window: DEVNET_SIGNED_BLOCKS_WINDOW,
        min_signed_per_window: DEVNET_MIN_SIGNED_PER_WINDOW,
        downtime_jail_duration_seconds: DEVNET_DOWNTIME_JAIL_SECONDS,
        slash_fraction_double_sign: DEVNET_SLASH_FRACTION_DOUBLE_SIGN,
        slash_fraction_downtime: DEVNET_SLASH_FRACTION_DOWNTIME,
        max_slash_per_epoch: DEVNET_MAX_SLASH_PER_EPOCH,
    }
}

/// App genesis without operators (`aegisd init`): the faucet and the
/// validator's account funded with uaegis; CometBFT's genesis.json picks
/// the validators.
fn plain_genesis(faucet: &Signer, validators: &[&Signer]) -> AppGenesis {
    let mut balances = vec![GenesisBalance { address: faucet.address.to_string(), coins: vec![coin(NATIVE_DENOM, FAUCET_BALANCE)] }];
    balances.extend(validators.iter().map(|v| GenesisBalance { address: v.address.to_string(), coins: vec![coin(NATIVE_DENOM, VALIDATOR_BALANCE)] }));
    let mut accounts = vec![faucet];
    accounts.extend(validators);
    AppGenesis {
        auth: AuthGenesis { accounts: accounts.iter().map(|s| GenesisAccount { address: s.address.to_string() }).collect(), ..Default::default() },
        bank: BankGenesis { balances },
        ..Default::default()
    }
}

/// Every node but `i`, as CometBFT peers.
fn peers_of(nodes: &[NodeSpec], i: usize) -> String {
    nodes.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| format!("{}@127.0.0.1:{}", p.node_id(), p.p2p_port)).collect::<Vec<_>>().join(",")
}

/// One node's home: CometBFT's config.toml, the genesis, its validator and
/// node keys, a fresh signing state, app.toml, and a client.toml pointing
/// client commands at this node (chain id from the genesis, empty if none yet).
fn write_home(n: &NodeSpec, peers: &str, genesis: &str) -> Result<()> {
    let cfg = n.home.join("config");
    write_file(&cfg.join("config.toml"), &config_toml(n, peers), false)?;
    write_file(&cfg.join("genesis.json"), genesis, false)?;
    let pv = json!({
        "address": n.validator_address(),
        "pub_key": pub_key_json(&n.validator_key),
        "priv_key": priv_key_json(&n.validator_key),
    });
    write_file(&cfg.join("priv_validator_key.json"), &serde_json::to_string_pretty(&pv)?, true)?;
    write_file(&cfg.join("node_key.json"), &serde_json::to_string_pretty(&json!({"priv_key": priv_key_json(&n.node_key)}))?, true)?;
    write_file(&n.home.join("data").join("priv_validator_state.json"), "{\n  \"height\": \"0\",\n  \"round\": 0,\n  \"step\": 0\n}\n", true)?;
    n.app_config().save(&n.home)?;
    let chain_id = serde_json::from_str::<serde_json::Value>(genesis).ok().and_then(|g| g["chain_id"].as_str().map(String::from)).unwrap_or_default();
    ClientConfig::for_node(&chain_id, n.rpc_port, n.grpc_port)?.save(&n.home)
}

/// Write homes for `nodes` sharing one genesis; returns the named accounts
/// created (faucet, one per validator, then stakers). With `operators`,
/// validators are operators in app genesis and stakers are created (see
/// [`operator_genesis`]).
fn write_network(chain_id: &str, nodes: &[NodeSpec], operators: bool, withdrawal_delay: u64, blocks_per_epoch: u64) -> Result<Vec<NamedAccount>> {
    let named = |name: String| -> Result<NamedAccount> {
        let m = random_mnemonic();
        Ok((name, Signer::from_mnemonic(&m)?, m))
    };
    let mut accounts = vec![named("faucet".into())?];
    for n in nodes {
        accounts.push(named(n.moniker.clone())?);
    }
    if operators {
        for i in 0..STAKERS {
            accounts.push(named(format!("staker{i}"))?);
        }
        accounts.push(named("relayer".into())?);
    }
    let faucet = &accounts[0].1;
    let validators: Vec<&Signer> = accounts[1..=nodes.len()].iter().map(|a| &a.1).collect();
    let stakers: Vec<&Signer> = accounts[nodes.len() + 1..].iter().filter(|a| a.0.starts_with("staker")).map(|a| &a.1).collect();
    let (app_state, powers) = if operators {
        let relayer = &accounts.last().expect("relayer").1;
        operator_genesis(nodes, faucet, &validators, &stakers, relayer, withdrawal_delay, blocks_per_epoch)
    } else {
        (plain_genesis(faucet, &validators), vec![VALIDATOR_POWER; nodes.len()])
    };
    let genesis = json!({
        "genesis_time": genesis_time_now(),
        "chain_id": chain_id,
        "initial_height": "1",
        // With operators these are the powers InitChain returns, so
        // genesis.json and the app agree from the start.
        "validators": nodes.iter().zip(&powers).map(|(n, power)| json!({
            "address": n.validator_address(),
            "pub_key": pub_key_json(&n.validator_key),
            "power": power.to_string(),
            "name": n.moniker,
        })).collect::<Vec<_>>(),
        "app_hash": "",
        "app_state": app_state,
    });
    let genesis = serde_json::to_string_pretty(&genesis)?;

    for (i, n) in nodes.iter().enumerate() {
        write_home(n, &peers_of(nodes, i), &genesis)?;
        // Each node's keyring holds its own validator account; node 0's also
        // the faucet, the stakers and the relayer.
        let keyring = Keyring::with_backend(&n.home, Backend::Test);
        keyring.store(&n.moniker, &accounts[i + 1].2)?;
        if i == 0 {
            keyring.store("faucet", &accounts[0].2)?;
            for (name, _, mnemonic) in &accounts[nodes.len() + 1..] {
                keyring.store(name, mnemonic)?;
            }
        }
    }
    Ok(accounts)
}

/// `aegisd testnet generate`.
pub fn generate(validators: usize, output: &Path, chain_id: &str, base_port: u16, withdrawal_delay: u64, blocks_per_epoch: u64) -> Result<()> {
    anyhow::ensure!(withdrawal_delay >= 1, "--withdrawal-delay-seconds must be at least 1");
    anyhow::ensure!(blocks_per_epoch >= 1, "--blocks-per-epoch must be at least 1");
    anyhow::ensure!(validators >= 1, "--validators must be at least 1");
    anyhow::ensure!(!output.join("node0").exists(), "{} already holds a network; remove it first", output.display());
    std::fs::create_dir_all(output)?;
    let output = output.canonicalize()?;
    let nodes = (0..validators).map(|i| NodeSpec::new(i, output.join(format!("node{i}")), base_port)).collect::<Result<Vec<_>>>()?;
    let accounts = write_network(chain_id, &nodes, true, withdrawal_delay, blocks_per_epoch)?;
    let endpoints = Endpoints { chains: vec![chain_endpoints(chain_id, "provider", &nodes, accounts)] };
    write_file(&output.join("endpoints.json"), &serde_json::to_string_pretty(&endpoints)?, true)?;
    println!("wrote {validators} node homes and endpoints.json to {}", output.display());
    Ok(())
}

/// `aegisd init`: a single-validator home at `home`, ports from `base_port`.
pub fn init(home: &Path, chain_id: &str, base_port: u16) -> Result<()> {
    anyhow::ensure!(!home.join("config").join("genesis.json").exists(), "{} is already initialised", home.display());
    std::fs::create_dir_all(home)?;
    let home = home.canonicalize()?;
    let mut node = NodeSpec::new(0, home.clone(), base_port)?;
    node.moniker = "node".into();
    let accounts = write_network(chain_id, std::slice::from_ref(&node), false, DEVNET_WITHDRAWAL_DELAY_SECONDS, DEVNET_BLOCKS_PER_EPOCH)?;
    println!("initialised {} for chain {chain_id}", home.display());
    for (name, s, _) in accounts {
        println!("account {name}: {} (key in {}/keyring)", s.address, home.display());
    }
    Ok(())
}
