//! Consumer-chain node homes. A consumer's genesis exists only once the
//! provider launches it, but its validators' consensus keys must exist
//! before (operators opt in with them). So a consumer devnet is written in
//! two steps: `testnet generate --consumer` writes the homes, keys and a
//! genesis template (chain id, funded faucet and relayer, no validators),
//! and `testnet set-consumer-genesis` later puts the provider's
//! `ConsumerGenesisState` into `app_state.consumer` and its initial set
//! into `validators`. `aegisd consumer join` writes one home the same way.

use std::path::{Path, PathBuf};

use aegis_app::auth::genesis::{AuthGenesis, GenesisAccount};
use aegis_app::bank::genesis::{BankGenesis, GenesisBalance};
use aegis_app::ccv::ConsumerGenesis;
use aegis_app::types::NATIVE_DENOM;
use aegis_app::AppGenesis;
use anyhow::{anyhow, bail, Context, Result};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{chain_endpoints, coin, genesis_time_now, peers_of, random_mnemonic, write_file, write_home, Endpoints, NamedAccount, NodeSpec};
use crate::keys::Keyring;
use aegis_app::signer::Signer;

/// uaegis the faucet and the relayer hold on a devnet consumer chain.
pub const CONSUMER_FAUCET_BALANCE: u128 = 1_000_000_000_000_000;
pub const CONSUMER_RELAYER_BALANCE: u128 = 1_000_000_000_000;

/// `aegisd testnet generate --consumer`: `validators` node homes for the
/// consumer chain `chain_id` (ports as for any devnet), the `faucet` and
/// `relayer` keys in node 0's keyring, funded in the genesis template, and
/// endpoints.json with the chain's role `consumer`. The nodes cannot start
/// until `set-consumer-genesis` completes their genesis.
pub fn generate(validators: usize, output: &Path, chain_id: &str, base_port: u16) -> Result<()> {
    anyhow::ensure!(validators >= 1, "--validators must be at least 1");
    anyhow::ensure!(!output.join("node0").exists(), "{} already holds a network; remove it first", output.display());
    std::fs::create_dir_all(output)?;
    let output = output.canonicalize()?;
    let nodes = (0..validators).map(|i| NodeSpec::new(i, output.join(format!("node{i}")), base_port)).collect::<Result<Vec<_>>>()?;
    let named = |name: &str| -> Result<NamedAccount> {
        let m = random_mnemonic();
        Ok((name.to_string(), Signer::from_mnemonic(&m)?, m))
    };
    let accounts = vec![named("faucet")?, named("relayer")?];
    let app_state = AppGenesis {
        auth: AuthGenesis { accounts: accounts.iter().map(|a| GenesisAccount { address: a.1.address.to_string() }).collect(), ..Default::default() },
        bank: BankGenesis {
            balances: vec![
                GenesisBalance { address: accounts[0].1.address.to_string(), coins: vec![coin(NATIVE_DENOM, CONSUMER_FAUCET_BALANCE)] },
                GenesisBalance { address: accounts[1].1.address.to_string(), coins: vec![coin(NATIVE_DENOM, CONSUMER_RELAYER_BALANCE)] },
            ],
        },
        ..Default::default()
    };
    let template = json!({
        "genesis_time": genesis_time_now(),
        "chain_id": chain_id,
        "initial_height": "1",
        // The provider's initial set, written by `set-consumer-genesis`.
        "validators": [],
        "app_hash": "",
        "app_state": app_state,
    });
    let template = serde_json::to_string_pretty(&template)?;
    for (i, n) in nodes.iter().enumerate() {
        write_home(n, &peers_of(&nodes, i), &template)?;
    }
    let keyring = Keyring::open(&nodes[0].home);
    for (name, _, mnemonic) in &accounts {
        keyring.store(name, mnemonic)?;
    }
    let endpoints = Endpoints { chains: vec![chain_endpoints(chain_id, "consumer", &nodes, accounts)] };
    write_file(&output.join("endpoints.json"), &serde_json::to_string_pretty(&endpoints)?, true)?;
    println!("wrote {validators} consumer node homes of {chain_id} and endpoints.json to {}", output.display());
    println!("their keys: {}/node<i>/config/priv_validator_key.json (opt in with them); then run `aegisd testnet set-consumer-genesis`", output.display());
    Ok(())
}

/// The provider's consumer genesis (the JSON `query provider
/// consumer-genesis` prints), checked as the consumer's InitChain will
/// check it.
pub fn parse_ccv(text: &str) -> Result<(ConsumerGenesis, Value)> {
    let value: Value = serde_json::from_str(text).context("the consumer genesis is not JSON")?;
    let ccv: ConsumerGenesis = serde_json::from_value(value.clone()).context("not an ICS ConsumerGenesisState")?;
    aegis_app::consumer::genesis::initial_validators(&ccv.to_proto()).map_err(|e| anyhow!("{e}"))?;
    Ok((ccv, value))
}

/// CometBFT's genesis `validators` entries for the initial set.
fn genesis_validators(ccv: &ConsumerGenesis) -> Vec<Value> {
    ccv.provider
        .initial_val_set
        .iter()
        .map(|v| {
            json!({
                "address": hex::encode_upper(&Sha256::digest(v.pubkey)[..20]),
                "pub_key": {"type": "tendermint/PubKeyEd25519", "value": B64.encode(v.pubkey)},
                "power": v.power.to_string(),
                "name": "",
            })
        })
        .collect()
}

/// The time of the provider's block that launched the consumer: the
/// timestamp of the provider consensus state in its genesis.
pub fn launch_time(ccv: &ConsumerGenesis) -> Option<tendermint::Time> {
    let ts = ccv.provider.consensus_state.as_ref()?.timestamp.as_ref()?;
    tendermint::Time::from_unix_timestamp(ts.seconds, ts.nanos.max(0) as u32).ok()
}

/// `template` (a genesis.json) completed with the consumer section and the
/// initial validators, starting at `genesis_time` (RFC 3339).
pub fn complete_genesis(mut template: Value, ccv: &ConsumerGenesis, ccv_json: Value, genesis_time: &str) -> Result<Value> {
    let doc = template.as_object_mut().ok_or_else(|| anyhow!("genesis.json is not a JSON object"))?;
    doc.insert("genesis_time".into(), json!(genesis_time));
    doc.insert("validators".into(), Value::Array(genesis_validators(ccv)));
    let app_state = doc.entry("app_state").or_insert_with(|| json!({}));
    app_state.as_object_mut().ok_or_else(|| anyhow!("app_state is not a JSON object"))?.insert("consumer".into(), ccv_json);
    Ok(template)
}

/// The genesis a consumer's validators can all build from the provider
/// alone: only the consumer section in `app_state` (no accounts), starting
/// at the launch time, so everyone who builds it gets the same chain.
pub fn genesis_from_provider(chain_id: &str, ccv_text: &str) -> Result<Value> {
    let (ccv, value) = parse_ccv(ccv_text)?;
    let time = launch_time(&ccv).ok_or_else(|| anyhow!("the consumer genesis has no provider consensus state timestamp"))?;
    let template = json!({"genesis_time": "", "chain_id": chain_id, "initial_height": "1", "validators": [], "app_hash": "", "app_state": {}});
    complete_genesis(template, &ccv, value, &time.to_rfc3339())
}

/// The node homes of a consumer network directory (`node0`, `node1`, ...).
fn node_homes(output: &Path) -> Result<Vec<PathBuf>> {
    let mut homes = Vec::new();
    for i in 0.. {
        let home = output.join(format!("node{i}"));
        if !home.join("config").join("genesis.json").exists() {
            break;
        }
        homes.push(home);
    }
    if homes.is_empty() {
        bail!("{} holds no node homes (node0/config/genesis.json); run `aegisd testnet generate --consumer` first", output.display());
    }
    Ok(homes)
}

/// `aegisd testnet set-consumer-genesis`: every node's genesis.json gets
/// the provider's consumer genesis (`ccv_text`) and its initial validators,
/// and starts now (at the launch time if that is later: the provider's
/// client of the consumer accepts no header before it).
pub fn set_genesis(output: &Path, ccv_text: &str) -> Result<()> {
    let homes = node_homes(output)?;
    let (ccv, value) = parse_ccv(ccv_text)?;
    let template: Value = serde_json::from_slice(&std::fs::read(homes[0].join("config/genesis.json"))?)?;
    let now = tendermint::Time::parse_from_rfc3339(&genesis_time_now()).map_err(|e| anyhow!("{e}"))?;
    let start = launch_time(&ccv).filter(|t| *t > now).unwrap_or(now);
    let genesis = complete_genesis(template, &ccv, value, &start.to_rfc3339())?;
    let text = serde_json::to_string_pretty(&genesis)?;
    let ours: Vec<String> = homes.iter().map(|h| consensus_key(h)).collect::<Result<_>>()?;
    let initial: Vec<String> = ccv.provider.initial_val_set.iter().map(|v| B64.encode(v.pubkey)).collect();
    for h in &homes {
        write_file(&h.join("config/genesis.json"), &text, false)?;
    }
    println!(
        "wrote the consumer genesis of {} to {} node homes: {} initial validators, {} of them keys of these homes",
        genesis["chain_id"].as_str().unwrap_or_default(),
        homes.len(),
        initial.len(),
        initial.iter().filter(|k| ours.contains(k)).count()
    );
    Ok(())
}

/// The base64 ed25519 public key in a home's `priv_validator_key.json`.
pub fn consensus_key(home: &Path) -> Result<String> {
    let path = home.join("config/priv_validator_key.json");
    let v: Value = serde_json::from_slice(&std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?)?;
    v["pub_key"]["value"].as_str().map(str::to_string).ok_or_else(|| anyhow!("{} has no pub_key.value", path.display()))
}

/// One consumer node home for an operator joining a consumer (`aegisd
/// consumer join`): CometBFT config with `peers`, a new consensus key and
/// node key, app.toml, ports from `base_port`. An existing home is kept as
/// it is (its key is the one to keep), only its peers replaced when given.
/// Returns whether it was created.
pub fn write_join_home(home: &Path, moniker: &str, base_port: u16, peers: Option<&str>) -> Result<bool> {
    let config = home.join("config").join("config.toml");
    if config.exists() {
        consensus_key(home)?;
        if let Some(peers) = peers {
            let text = std::fs::read_to_string(&config)?;
            let out: Vec<String> =
                text.lines().map(|l| if l.trim_start().starts_with("persistent_peers") { format!("persistent_peers = \"{peers}\"") } else { l.to_string() }).collect();
            write_file(&config, &(out.join("\n") + "\n"), false)?;
        }
        return Ok(false);
    }
    std::fs::create_dir_all(home)?;
    let mut node = NodeSpec::new(0, home.canonicalize()?, base_port)?;
    node.moniker = moniker.to_string();
    // The genesis comes once the consumer has launched.
    write_home(&node, peers.unwrap_or(""), "")?;
    std::fs::remove_file(home.join("config/genesis.json"))?;
    Ok(true)
}
