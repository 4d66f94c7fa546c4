//! End-to-end restaking on a real 4-validator devnet: a deposit and a
//! delegation made with the `aegisd` CLI change CometBFT's validator set at
//! the next epoch end, exactly as the stake says.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use aegis_node::testnet::{SELF_DELEGATION, STAKER_DELEGATION};
use aegis_proto::aegis::delegation::v1::{QueryOperatorRequest, QueryValidatorSetRequest};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use common::{Devnet, AEGISD};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// uaegis the faucet deposits and delegates to validator 3.
const FAUCET_DEPOSIT: u128 = 50_000_000_000;

/// A genesis operator as the test reads it back from genesis.json.
struct GenesisValidator {
    operator: String,
    /// CometBFT's validator address: hex of sha256(ed25519 key)[..20].
    cometbft_address: String,
    /// Hex of the ed25519 key, as the delegation queries show it.
    consensus_key_hex: String,
    /// Self-delegation plus the stakers' genesis delegations.
    tokens: u128,
}

fn amount_of(coin: &str) -> u128 {
    coin.strip_suffix("uaegis").unwrap_or_else(|| panic!("{coin} is not uaegis")).parse().unwrap()
}

/// Operators by moniker, and the power reduction, from the app genesis.
fn read_genesis(net: &Devnet) -> (BTreeMap<String, GenesisValidator>, u128) {
    let genesis: Value = serde_json::from_slice(&std::fs::read(net.nodes[0].home.join("config/genesis.json")).unwrap()).unwrap();
    let d = &genesis["app_state"]["delegation"];
    let mut out = BTreeMap::new();
    for o in d["operators"].as_array().unwrap() {
        let operator = o["address"].as_str().unwrap().to_string();
        let key = B64.decode(o["consensus_pubkey"].as_str().unwrap()).unwrap();
        let delegated: u128 = d["delegations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["operator"] == operator.as_str())
            .map(|x| amount_of(x["amount"].as_str().unwrap()))
            .sum();
        out.insert(
            o["metadata"]["moniker"].as_str().unwrap().to_string(),
            GenesisValidator {
                operator,
                cometbft_address: hex::encode_upper(&Sha256::digest(&key)[..20]),
                consensus_key_hex: hex::encode_upper(&key),
                tokens: amount_of(o["self_delegation"].as_str().unwrap()) + delegated,
            },
        );
    }
    (out, d["params"]["power_reduction"].as_u64().unwrap() as u128)
}

/// CometBFT's validator set at `height` (RPC `/validators`): (address, power) in its order.
fn cometbft_validators(net: &Devnet, height: u64) -> Vec<(String, i64)> {
    let r = net.rpc_json(0, &format!("validators?height={height}&per_page=100"));
    r["validators"].as_array().unwrap().iter().map(|v| (v["address"].as_str().unwrap().to_string(), v["voting_power"].as_str().unwrap().parse().unwrap())).collect()
}

fn power_of(set: &[(String, i64)], v: &GenesisValidator) -> i64 {
    set.iter().find(|(a, _)| *a == v.cometbft_address).unwrap_or_else(|| panic!("{} not in {set:?}", v.cometbft_address)).1
}

/// Run an `aegisd` client command against node 0 (whose keyring holds the
/// faucet); its JSON output.
fn aegisd(net: &Devnet, args: &[&str]) -> Value {
    let out = Command::new(AEGISD).args(args).arg("--home").arg(&net.nodes[0].home).arg("--grpc").arg(&net.nodes[0].grpc).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "aegisd {args:?} failed\nstdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("aegisd {args:?}: {e}: {stdout}"))
}

fn at_height<T>(msg: T, height: u64) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut().insert(aegis_app::query::HEIGHT_METADATA, height.to_string().parse().unwrap());
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_delegated_to_validator_3_lifts_it_above_validator_0_at_the_next_epoch() {
    let net = Devnet::start(4, 27700).await;
    let (vals, power_reduction) = read_genesis(&net);
    let (val0, val3) = (&vals["val0"], &vals["val3"]);
    // Staker i delegates to validator i % 4 in genesis: val0 has staker0, val3 none.
    assert_eq!((val0.tokens, val3.tokens, power_reduction), (SELF_DELEGATION + STAKER_DELEGATION, SELF_DELEGATION, 1_000_000));
    let blocks_per_epoch = 5;
    let params = aegisd(&net, &["query", "delegation", "params"]);
    assert_eq!(params["params"]["blocks_per_epoch"], blocks_per_epoch.to_string());

    // Genesis: InitChain's set (= genesis.json's powers).
    let genesis_set = cometbft_validators(&net, 1);
    assert_eq!(power_of(&genesis_set, val0), 110_000);
    assert_eq!(power_of(&genesis_set, val3), 100_000);
    for v in vals.values() {
        assert_eq!(power_of(&genesis_set, v), (v.tokens / power_reduction) as i64);
    }

    // The faucet delegates to val3's operator, then deposits: the shares
    // follow the delegation (two txs through the CLI).
    let r = aegisd(&net, &["tx", "delegation", "delegate", &val3.operator, "--from", "faucet"]);
    assert_eq!(r["code"], 0, "{r}");
    let r = aegisd(&net, &["tx", "restaking", "deposit", &format!("{FAUCET_DEPOSIT}uaegis"), "--from", "faucet"]);
    assert_eq!(r["code"], 0, "{r}");
    // An untouched native pool mints 10^9 shares per token.
    assert_eq!(r["responses"][0]["shares"], (FAUCET_DEPOSIT * 1_000_000_000).to_string(), "{r}");
    let tx_height = r["height"].as_u64().unwrap();

    // The epoch ending at or after the deposit's block picks the new set;
    // CometBFT applies FinalizeBlock's validator updates two heights later.
    let epoch_end = tx_height.div_ceil(blocks_per_epoch) * blocks_per_epoch;
    net.wait_height(0, epoch_end + 2, Duration::from_secs(60)).await;
    let val3_tokens = val3.tokens + FAUCET_DEPOSIT;
    assert_eq!(val3_tokens / power_reduction, 150_000);
    assert_eq!(val0.tokens / power_reduction, 110_000);
    let before = cometbft_validators(&net, epoch_end + 1);
    assert_eq!(power_of(&before, val3), 100_000, "the update must not apply before epoch end + 2");
    let after = cometbft_validators(&net, epoch_end + 2);
    assert_eq!(after.len(), 4);
    assert_eq!(power_of(&after, val3), 150_000);
    assert_eq!(power_of(&after, val0), 110_000);
    for name in ["val1", "val2"] {
        assert_eq!(power_of(&after, &vals[name]), 110_000, "{name}");
    }
    let rank = |v: &GenesisValidator| after.iter().position(|(a, _)| *a == v.cometbft_address).unwrap();
    assert_eq!(rank(val3), 0, "val3 now has the most power: {after:?}");
    assert!(rank(val3) < rank(val0));

    // The operator query over gRPC shows the same tokens and power.
    let g = net.grpc(0).await;
    let op = g.delegation().operator(QueryOperatorRequest { operator: val3.operator.clone() }).await.unwrap().into_inner().operator.unwrap();
    assert_eq!(op.stake.len(), 1);
    assert_eq!((op.stake[0].denom.as_str(), op.stake[0].tokens.as_str()), ("uaegis", val3_tokens.to_string().as_str()));
    assert_eq!((op.voting_power, op.is_validator, op.delegator_count), (150_000, true, 2));
    assert_eq!(op.consensus_pubkey, val3.consensus_key_hex);

    // The app's validator set chosen at that epoch end agrees with CometBFT's.
    let set = g.delegation().validator_set(at_height(QueryValidatorSetRequest {}, epoch_end)).await.unwrap().into_inner();
    assert_eq!(set.epoch_height, epoch_end);
    let app_powers: Vec<(String, i64, String)> = set.validators.iter().map(|v| (v.consensus_pubkey.clone(), v.power, v.tokens.clone())).collect();
    assert_eq!(app_powers[0], (val3.consensus_key_hex.clone(), 150_000, val3_tokens.to_string()));
    let by_key: BTreeMap<&str, &GenesisValidator> = vals.values().map(|v| (v.consensus_key_hex.as_str(), v)).collect();
    assert_eq!(app_powers.len(), after.len());
    for (key, power, _) in &app_powers {
        assert_eq!(power_of(&after, by_key[key.as_str()]), *power, "power of {key}");
    }
}
