//! Consumer-chain faults end to end, on one devnet (`scripts/devnet.sh up
//! --consumers 1`: a provider and a consumer of three validators each, real
//! CometBFT, the CCV relayer). val0 allocates 0.5 of its stake to the
//! consumer, val1 and val2 0.1 each, so the consumer keeps going with both
//! small ones stopped; val1 also allocates 0.2 to another AVS.
//!
//! - Downtime and the jail bound: val1's and then val2's consumer nodes
//!   stop; the consumer reports both (one slash packet in flight at a
//!   time). In one provider epoch val1 is jailed on the consumer and val2's
//!   packet, beyond the bound, bounces; the provider keeps making blocks.
//!   val1 leaves the consumer's set at the next epoch end; its provider
//!   stake and its other allocation are untouched; `tx provider unjail`
//!   brings it back.
//! - Double sign: a twin of val1's consumer node (same key) makes CometBFT
//!   record duplicate votes; the relayer submits the evidence; the provider
//!   slashes exactly 5% of val1's allocation to the consumer and tombstones
//!   it there; a restarted relayer and the CLI find it already judged.
//! - Rewards: fees paid on the consumer reach the provider's fee pool and
//!   are split by power, commission and stake, to the unit; claims pay them.
//! - Bad input, each refused with its code and message and changing
//!   nothing: forged evidence, evidence by a key no operator had, opting in
//!   to a stopped consumer, another operator's key, a replayed slash
//!   packet, a slash packet the consumer never sent.
//!
//! The slash packets are the consumer's own: relayed by `aegisd relayer`,
//! and in the bound scenario by the same relayer code driven from here
//! (`relay::round`, real proofs), so that both packets land in one epoch.
//! Ports 29500-29990.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aegis_app::math::{acc_earned_down, acc_step_down, WAD};
use aegis_app::signer::Signer;
use aegis_node::client::GrpcClient;
use aegis_node::relayer::{chain::Chain, channels::open_directions, config::RelayerConfig, relay};
use common::{devnet_script as devnet, http_get, ScriptDown as Down, AEGISD};
use serde_json::Value;

const BASE_PORT: u16 = 29500;
/// Long enough that the consumer's two slash packets (one in flight at a
/// time) reach the provider within one epoch.
const EPOCH: u64 = 25;
const POWER_REDUCTION: u128 = 1_000_000;
const ALLOCATIONS: [u128; 3] = [WAD / 2, WAD / 10, WAD / 10];
const OTHER_AVS_ALLOCATION: u128 = WAD / 5;
/// `create-consumer`'s default double-sign fraction.
const DOUBLE_SIGN_FRACTION: u128 = WAD / 20;
/// Gas of the transactions that must fail in a block (and their fee at 0.025uaegis).
const GAS: &str = "400000";
const FEE: u128 = 10_000;

/// A CLI call that must succeed; its stdout as JSON (or Null).
fn aegisd(args: &[&str]) -> Value {
    let out = Command::new(AEGISD).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "aegisd {}:\n{stdout}\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or(Value::Null)
}

/// A CLI transaction the chain must refuse in a block (gas given, so the
/// node's answer and not the simulation's): its JSON result.
fn refused(args: &[&str]) -> Value {
    let out = Command::new(AEGISD).args(args).args(["--gas", GAS]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "aegisd {} succeeded:\n{stdout}", args.join(" "));
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(v["height"].as_u64().unwrap_or(0) > 0, "refused in a block, not by CheckTx: {v}");
    v
}

fn refusal(v: &Value) -> (&str, u64, &str) {
    (v["codespace"].as_str().unwrap(), v["code"].as_u64().unwrap(), v["raw_log"].as_str().unwrap().trim_start_matches("failed to execute message; message index: 0: "))
}

/// The `result` of a CometBFT RPC GET.
fn rpc(base: &str, path: &str) -> Value {
    let text = http_get(&format!("{base}/{path}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    v["result"].clone()
}

/// `tx_search` (`kind` "tx") or `block_search` ("block") for an event query: the heights, ascending.
fn search(base: &str, kind: &str, query: &str) -> Vec<u64> {
    let q = query.replace(' ', "%20").replace('"', "%22").replace('\'', "%27");
    let r = rpc(base, &format!("{kind}_search?query=%22{q}%22&per_page=100&order_by=%22desc%22"));
    let items = r[if kind == "tx" { "txs" } else { "blocks" }].as_array().unwrap().clone();
    let mut hs: Vec<u64> = items
        .iter()
        .map(|i| if kind == "tx" { i["height"].as_str().unwrap().parse().unwrap() } else { i["block"]["header"]["height"].as_str().unwrap().parse().unwrap() })
        .collect();
    hs.sort();
    hs
}

/// Attribute `key` of the events of type `kind` in `events` (CometBFT JSON).
fn attrs(events: &Value, kind: &str, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in events.as_array().into_iter().flatten().filter(|e| e["type"] == kind) {
        for a in e["attributes"].as_array().unwrap().iter().filter(|a| a["key"] == key) {
            out.push(a["value"].as_str().unwrap().to_string());
        }
    }
    out
}

fn height(base: &str) -> u64 {
    rpc(base, "status")["sync_info"]["latest_block_height"].as_str().unwrap().parse().unwrap()
}

fn block_time(base: &str, h: u64) -> i64 {
    let t = rpc(base, &format!("block?height={h}"))["block"]["header"]["time"].as_str().unwrap().to_string();
    tendermint::Time::parse_from_rfc3339(&t).unwrap().unix_timestamp()
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Processes the test starts itself, by name; killed on drop.
#[derive(Default)]
struct Procs(BTreeMap<String, Child>);

impl Procs {
    fn spawn(&mut self, name: &str, cmd: &mut Command, log: &Path) {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        self.0.insert(name.into(), cmd.stdout(f.try_clone().unwrap()).stderr(f).stdin(Stdio::null()).spawn().unwrap());
    }
    fn kill(&mut self, name: &str) {
        let mut c = self.0.remove(name).unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for c in self.0.values_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// SIGKILL the processes `devnet.sh` recorded under names starting with `prefix`.
fn kill_recorded(dir: &Path, prefix: &str) {
    for line in std::fs::read_to_string(dir.join("pids")).unwrap().lines() {
        let mut parts = line.split_whitespace();
        let (Some(pid), Some(name)) = (parts.next(), parts.next()) else { continue };
        if name.starts_with(prefix) {
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
    }
}

fn at<T>(msg: T, h: u64) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut().insert(aegis_app::query::HEIGHT_METADATA, h.to_string().parse().unwrap());
    r
}

fn int(v: &str) -> u128 {
    v.parse().unwrap_or_else(|_| panic!("not an integer: {v:?}"))
}

/// "123denom" -> 123 if the denom is `denom`.
fn amount_of(coins: &[String], denom: &str) -> u128 {
    coins.iter().filter_map(|c| c.strip_suffix(denom)).map(int).sum()
}

/// The devnet as `endpoints.json` describes it, with gRPC clients of the
/// provider's and the consumer's node 0.
struct Net {
    dir: PathBuf,
    e: Value,
    p: GrpcClient,
    c: GrpcClient,
    p_rpc: String,
    c_rpc: String,
    id: u64,
}

/// An operator's standing on the provider at a height: native tokens,
/// shares and max magnitude, and its uaegis allocations by AVS.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Standing {
    tokens: u128,
    shares: u128,
    max_magnitude: u128,
    allocations: BTreeMap<u64, u128>,
}

impl Net {
    async fn up(dir: &Path) -> Net {
        let base = BASE_PORT.to_string();
        let epoch = EPOCH.to_string();
        let args = [
            "up", "--validators", "3", "--consumers", "1", "--consumer-allocations", "0.5,0.1,0.1", "--blocks-per-epoch", &epoch,
            "--consumer-transmission-blocks", "10", "--base-port", &base,
        ];
        let started = Instant::now();
        let (ok, out) = devnet(&args, dir);
        assert!(ok, "devnet.sh {}:\n{out}", args.join(" "));
        eprintln!("devnet.sh up took {:?}", started.elapsed());
        let e: Value = serde_json::from_slice(&std::fs::read(dir.join("endpoints.json")).unwrap()).unwrap();
        let node = |c: usize| e["chains"][c]["nodes"][0].clone();
        Net {
            dir: dir.to_path_buf(),
            p: GrpcClient::connect(node(0)["grpc"].as_str().unwrap()).await.unwrap(),
            c: GrpcClient::connect(node(1)["grpc"].as_str().unwrap()).await.unwrap(),
            p_rpc: node(0)["rpc"].as_str().unwrap().into(),
            c_rpc: node(1)["rpc"].as_str().unwrap().into(),
            id: e["chains"][1]["consumer_id"].as_u64().unwrap(),
            e,
        }
    }
    fn node(&self, chain: usize, i: usize) -> &Value {
        &self.e["chains"][chain]["nodes"][i]
    }
    fn home(&self, i: usize) -> String {
        self.node(0, i)["home"].as_str().unwrap().into()
    }
    fn grpc(&self, i: usize) -> String {
        self.node(0, i)["grpc"].as_str().unwrap().into()
    }
    fn account(&self, chain: usize, name: &str) -> Value {
        self.e["chains"][chain]["accounts"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap().clone()
    }
    fn addr(&self, name: &str) -> String {
        self.account(0, name)["address"].as_str().unwrap().into()
    }
    /// A provider tx from account `name` (its key is in node 0's keyring, or
    /// in valI's node), once its block's state is committed.
    fn tx(&self, name: &str, args: &[&str]) -> Value {
        let i = name.strip_prefix("val").map_or(0, |i| i.parse().unwrap());
        let (home, grpc) = (self.home(i), self.grpc(i));
        let v = aegisd(&[args, &["--from", name, "--home", &home, "--grpc", &grpc]].concat());
        self.settle(v["height"].as_u64().unwrap_or(0));
        v
    }
    fn refused_tx(&self, name: &str, args: &[&str]) -> Value {
        let i = name.strip_prefix("val").map_or(0, |i| i.parse().unwrap());
        let (home, grpc) = (self.home(i), self.grpc(i));
        let v = refused(&[args, &["--from", name, "--home", &home, "--grpc", &grpc]].concat());
        self.settle(v["height"].as_u64().unwrap());
        v
    }
    /// Wait until the provider's app has committed block `h` (CometBFT
    /// shows a block before the app commits it; it starts h + 1 after).
    fn settle(&self, h: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while height(&self.p_rpc) <= h {
            assert!(Instant::now() < deadline, "the provider stopped before height {}", h + 1);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    /// Consumer node `i`'s consensus key: (CometBFT address, hex public key).
    fn consumer_key(&self, i: usize) -> (String, String) {
        let home = PathBuf::from(self.node(1, i)["home"].as_str().unwrap());
        let v: Value = serde_json::from_slice(&std::fs::read(home.join("config/priv_validator_key.json")).unwrap()).unwrap();
        let key = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, v["pub_key"]["value"].as_str().unwrap()).unwrap();
        (v["address"].as_str().unwrap().into(), hex::encode(key))
    }
    fn relayer(&self) -> &Value {
        &self.e["relayers"][0]
    }
    /// The consumer's CometBFT validator set: address -> power.
    fn consumer_set(&self) -> BTreeMap<String, u64> {
        let v = rpc(&self.c_rpc, "validators?per_page=100");
        v["validators"].as_array().unwrap().iter().map(|v| (v["address"].as_str().unwrap().into(), v["voting_power"].as_str().unwrap().parse().unwrap())).collect()
    }
    async fn standing(&self, op: &str, h: u64) -> Standing {
        use aegis_proto::aegis::avs::v1::QueryAllocationsRequest;
        use aegis_proto::aegis::delegation::v1::QueryOperatorRequest;
        let o = self.p.delegation().operator(at(QueryOperatorRequest { operator: op.into() }, h)).await.unwrap().into_inner().operator.unwrap();
        let s = o.stake.into_iter().find(|s| s.denom == "uaegis").unwrap();
        let a = self.p.avs().allocations(at(QueryAllocationsRequest { operator: op.into() }, h)).await.unwrap().into_inner();
        let allocations = a.allocations.iter().filter(|a| a.strategy == "uaegis").map(|a| (a.avs_id, int(&a.magnitude))).collect();
        Standing { tokens: int(&s.tokens), shares: int(&s.shares), max_magnitude: int(&s.max_magnitude), allocations }
    }
    /// (power, jailed until, tombstoned) of `op` on the consumer at `h`.
    async fn opt_in(&self, op: &str, h: u64) -> (i64, i64, bool) {
        use aegis_proto::aegis::provider::v1::QueryOperatorConsumersRequest;
        let r = self.p.provider().operator_consumers(at(QueryOperatorConsumersRequest { operator: op.into() }, h)).await.unwrap().into_inner();
        let o = r.opt_ins.into_iter().find(|o| o.consumer_id == self.id).unwrap_or_else(|| panic!("{op} is not opted in at {h}"));
        (o.power, o.jailed_until, o.tombstoned)
    }
    async fn supply(&self, h: u64) -> u128 {
        use cosmos_sdk_proto::cosmos::bank::v1beta1::{query_client::QueryClient, QuerySupplyOfRequest};
        let r = QueryClient::new(self.p.channel()).supply_of(at(QuerySupplyOfRequest { denom: "uaegis".into() }, h)).await.unwrap().into_inner();
        int(&r.amount.unwrap().amount)
    }
    async fn balance(&self, addr: &str, denom: &str, h: u64) -> u128 {
        use cosmos_sdk_proto::cosmos::bank::v1beta1::{query_client::QueryClient, QueryBalanceRequest};
        let r = QueryClient::new(self.p.channel()).balance(at(QueryBalanceRequest { address: addr.into(), denom: denom.into() }, h)).await.unwrap().into_inner();
        r.balance.map_or(0, |c| int(&c.amount))
    }
    /// Pending (staker rewards, operator commission) of `addr` in `denom` at `h`.
    async fn pending(&self, addr: &str, denom: &str, h: u64) -> (u128, u128) {
        use aegis_proto::aegis::rewards::v1::QueryPendingRewardsRequest;
        let r = self.p.rewards().pending_rewards(at(QueryPendingRewardsRequest { address: addr.into() }, h)).await.unwrap().into_inner();
        let of = |c: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin]| c.iter().filter(|c| c.denom == denom).map(|c| int(&c.amount)).sum();
        (of(&r.rewards), of(&r.commission))
    }
    /// (undistributed, earned by operator) of the consumer's rewards in `denom` at `h`.
    async fn consumer_rewards(&self, denom: &str, h: u64) -> (u128, BTreeMap<String, u128>) {
        use aegis_proto::aegis::provider::v1::QueryConsumerRewardsRequest;
        let r = self.p.provider().consumer_rewards(at(QueryConsumerRewardsRequest { consumer_id: self.id }, h)).await.unwrap().into_inner();
        let of = |c: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin]| c.iter().filter(|c| c.denom == denom).map(|c| int(&c.amount)).sum::<u128>();
        (of(&r.undistributed), r.operators.iter().map(|o| (o.operator.clone(), of(&o.earned))).collect())
    }
    /// The set last sent to the consumer at `h`: operator -> power.
    async fn sent_set(&self, h: u64) -> BTreeMap<String, i64> {
        use aegis_proto::aegis::provider::v1::QueryConsumerValidatorsRequest;
        let r = self.p.provider().consumer_validators(at(QueryConsumerValidatorsRequest { consumer_id: self.id }, h)).await.unwrap().into_inner();
        r.validators.into_iter().map(|v| (v.operator, v.power)).collect()
    }
    /// The consumer's queue of slash packets (the validators they name, head
    /// first) and whether the head awaits the provider's answer.
    async fn consumer_queue(&self) -> (Vec<String>, Option<bool>) {
        use ibc_proto_052::interchain_security::ccv::consumer::v1::{QueryThrottleStateRequest, QueryThrottleStateResponse};
        use ibc_proto_052::interchain_security::ccv::v1::consumer_packet_data::Data;
        let r: QueryThrottleStateResponse = self.c.query("/interchain_security.ccv.consumer.v1.Query/QueryThrottleState", &QueryThrottleStateRequest {}).await.unwrap();
        let named = r
            .packet_data_queue
            .iter()
            .map(|p| match &p.data {
                Some(Data::SlashPacketData(s)) => hex::encode_upper(&s.validator.as_ref().unwrap().address),
                _ => panic!("not a slash packet: {p:?}"),
            })
            .collect();
        (named, r.slash_record.map(|s| s.waiting_on_reply))
    }
    async fn p_height(&self) -> u64 {
        height(&self.p_rpc)
    }
    /// The newest provider height whose state the app has surely committed.
    async fn committed(&self) -> u64 {
        self.p_height().await - 1
    }
}

/// Tokens delegated to validator i at genesis: its self-delegation and staker i's.
fn genesis_tokens() -> u128 {
    aegis_node::testnet::SELF_DELEGATION + aegis_node::testnet::STAKER_DELEGATION
}

fn power(tokens: u128, magnitude: u128) -> u64 {
    (tokens * magnitude / WAD / POWER_REDUCTION) as u64
}

#[tokio::test(flavor = "multi_thread")]
async fn consumer_faults_jail_slash_and_pay_exactly_what_they_should_and_bad_input_changes_nothing() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    // AEGIS_KEEP_DEVNET=DIR keeps the devnet's files (logs) in DIR.
    let dir = std::env::var_os("AEGIS_KEEP_DEVNET").map_or_else(|| tmp.path().join("devnet"), PathBuf::from);
    let _down = Down(dir.clone());
    let net = Net::up(&dir).await;
    let mut procs = Procs::default();
    let id = net.id.to_string();
    let (val0, val2) = (net.addr("val0"), net.addr("val2"));
    let keys: Vec<(String, String)> = (0..3).map(|i| net.consumer_key(i)).collect();
    let want: BTreeMap<String, u64> = (0..3).map(|i| (keys[i].0.clone(), power(genesis_tokens(), ALLOCATIONS[i]))).collect();
    assert_eq!(net.consumer_set(), want, "the consumer starts with the allocations' powers");

    // val1 also secures another AVS (0.2 of its uaegis).
    let r = net.tx("faucet", &["tx", "avs", "register", "--metadata-uri", "https://avs.example/other.json"]);
    let other: u64 = r["responses"][0]["avs_id"].as_str().unwrap().parse().unwrap();
    let other_s = other.to_string();
    net.tx("faucet", &["tx", "avs", "create-operator-set", &other_s, "1", "--strategies", "uaegis", "--slasher", &net.addr("faucet")]);
    net.tx("val1", &["tx", "avs", "register-operator", &other_s, "1"]);
    net.tx("val1", &["tx", "avs", "allocate", "--allocation", &format!("{other}/1/uaegis=0.2")]);
    // A second consumer that launches and is stopped again (for the opt-in below).
    let r = net.tx("faucet", &["tx", "provider", "create-consumer", "--consumer-chain-id", "aegis-consumer-z", "--spawn-time", "+0", "--strategy", "uaegis=1"]);
    let stopped = r["responses"][0]["consumer_id"].as_str().unwrap().to_string();
    let fresh = ed25519_consensus::SigningKey::new(rand::thread_rng());
    net.tx("val0", &["tx", "provider", "opt-in", &stopped, "--consumer-key", &hex::encode(fresh.verification_key().to_bytes()), "--allocate", "uaegis=0.01"]);

    rewards_reach_the_provider(&net).await;

    // The second consumer launches at an epoch end; its owner stops it.
    let p_grpc = net.grpc(0);
    wait_for("consumer z launched", Duration::from_secs(90), || async {
        aegisd(&["query", "provider", "consumer", &stopped, "--grpc", &p_grpc])["consumer"]["phase"] == "launched"
    })
    .await;
    net.tx("faucet", &["tx", "provider", "remove-consumer", &stopped]);
    let h = net.committed().await;
    let before = net.opt_in(&val2, h).await;
    let fee_payer = net.balance(&val2, "uaegis", h).await;
    let key = hex::encode(ed25519_consensus::SigningKey::new(rand::thread_rng()).verification_key().to_bytes());
    let v = net.refused_tx("val2", &["tx", "provider", "opt-in", &stopped, "--consumer-key", &key]);
    assert_eq!(refusal(&v), ("provider", 6, format!("consumer {stopped} is stopped: opting in needs it registered or launched").as_str()));
    let h = v["height"].as_u64().unwrap();
    assert_eq!(net.balance(&val2, "uaegis", h).await, fee_payer - FEE, "the fee only");
    // A key another operator validates the consumer with.
    let v = net.refused_tx("val2", &["tx", "provider", "assign-key", &id, "--consumer-key", &keys[0].1]);
    assert_eq!(refusal(&v), ("provider", 12, format!("consumer key {} is already used on consumer {id} by operator {val0}", keys[0].0).as_str()));
    let h = v["height"].as_u64().unwrap();
    assert_eq!(net.opt_in(&val2, h).await, before, "val2's standing is unchanged");
    let ops = aegisd(&["query", "provider", "operator-consumers", &val2, "--grpc", &p_grpc]);
    assert_eq!(ops["opt_ins"].as_array().unwrap().len(), 1, "not opted in to the stopped consumer: {ops}");
    assert_eq!(ops["opt_ins"][0]["consumer_key"], keys[2].1, "its key is its own: {ops}");

    bad_evidence(&net, &keys[1]).await;
    let twin = downtime_within_the_jail_bound(&net, &mut procs, other).await;
    double_sign(&net, &mut procs, other, twin).await;
    eprintln!("consumer faults: {:?} in all", started.elapsed());
}

/// A consumer user pays a 4,000,000uaegis fee; the consumer keeps 3/4 of
/// each block's fees and sends the rest to the provider every 10 blocks;
/// the provider splits what arrived by power at its epoch end (commission
/// first, then per share); a staker's claim pays its part.
async fn rewards_reach_the_provider(net: &Net) {
    let c_home = net.node(1, 0)["home"].as_str().unwrap().to_string();
    let c_grpc = net.node(1, 0)["grpc"].as_str().unwrap().to_string();
    let user = Signer::from_secret(&[42u8; 32]).unwrap().address.to_string();
    let r = aegisd(&["tx", "bank", "send", &user, "1uaegis", "--from", "faucet", "--gas", "200000", "--gas-prices", "20uaegis", "--home", &c_home, "--grpc", &c_grpc]);
    let f = r["height"].as_u64().unwrap();
    // The transmission that carries it: the first consumer block at or after f with a `fee_distribution`.
    let mut t = f;
    let transmission = loop {
        wait_for("the consumer's next block", Duration::from_secs(30), || async { height(&net.c_rpc) > t }).await;
        let ev = &rpc(&net.c_rpc, &format!("block_results?height={t}"))["finalize_block_events"];
        if let Some(amount) = attrs(ev, "fee_distribution", "provider_amount").pop() {
            break (amount, attrs(ev, "fee_distribution", "total").pop().unwrap());
        }
        t += 1;
    };
    // Each block's fees split 3/4 kept, the rest (the rounding too) for the provider.
    let mut owed = 0u128;
    for b in t - 9..=t {
        let results = rpc(&net.c_rpc, &format!("block_results?height={b}"));
        let fees: u128 = results["txs_results"].as_array().into_iter().flatten().map(|tx| amount_of(&attrs(&tx["events"], "tx", "fee"), "uaegis")).sum();
        owed += fees - fees * 3 / 4;
    }
    assert_eq!(transmission, (format!("{owed}uaegis"), format!("{owed}uaegis")), "transmitted at consumer height {t}");
    assert!(owed >= 1_000_000, "the user's fee is in it");
    // It arrives in the provider's fee pool as vouchers of the reward channel.
    let status = aegisd(&["query", "consumer", "status", "--grpc", &c_grpc]);
    let chan_c = status["params"]["distribution_transmission_channel"].as_str().unwrap().to_string();
    use ibc_proto::ibc::core::channel::v1 as ch;
    let r: ch::QueryChannelResponse =
        net.c.query("/ibc.core.channel.v1.Query/Channel", &ch::QueryChannelRequest { port_id: "transfer".into(), channel_id: chan_c }).await.unwrap();
    let chan_p = r.channel.unwrap().counterparty.unwrap().channel_id;
    let voucher = format!("ibc/{}", aegis_app::ibc::transfer::denom_hash(&format!("transfer/{chan_p}/uaegis")));
    let want = format!("{owed}{voucher}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let received = 'found: loop {
        for h in search(&net.p_rpc, "tx", &format!("consumer_rewards_received.consumer_id='{}'", net.id)) {
            let txs = rpc(&net.p_rpc, &format!("block_results?height={h}"))["txs_results"].clone();
            if txs.as_array().unwrap().iter().any(|tx| attrs(&tx["events"], "consumer_rewards_received", "amount").contains(&want)) {
                break 'found h;
            }
        }
        assert!(Instant::now() < deadline, "{want} not received by the provider within 60 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    eprintln!("{owed}uaegis of fees sent at consumer height {t}, received by the provider at {received}");

    // staker0 (delegated to val0) claims; the next epoch end pays what the
    // pool holds then, by power: its claim then shows exactly its share.
    let (val0, staker0) = (net.addr("val0"), net.addr("staker0"));
    let c0 = net.tx("staker0", &["tx", "rewards", "claim"])["height"].as_u64().unwrap();
    let e = c0.div_ceil(EPOCH) * EPOCH;
    wait_for("the epoch end after the claim", Duration::from_secs(60), || async { net.p_height().await > e }).await;
    assert!(search(&net.p_rpc, "block", &format!("consumer_rewards.consumer_id='{}'", net.id)).contains(&e), "the pool paid out at {e}");
    let (u0, earned0) = net.consumer_rewards(&voucher, e - 1).await;
    let (u1, earned1) = net.consumer_rewards(&voucher, e).await;
    let arrived: u128 = rpc(&net.p_rpc, &format!("block_results?height={e}"))["txs_results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tx| amount_of(&attrs(&tx["events"], "consumer_rewards_received", "amount"), &voucher))
        .sum();
    let pool = u0 + arrived;
    let set = net.sent_set(e).await;
    let total: i64 = set.values().sum();
    let mut paid = 0;
    for (op, p) in &set {
        let got = earned1[op] - earned0.get(op).copied().unwrap_or(0);
        assert_eq!(got, pool * *p as u128 / total as u128, "{op}'s share of {pool} by power {p} of {total}");
        paid += got;
    }
    assert_eq!(u1, pool - paid, "the rounding stays in the pool");
    // val0 keeps its commission (its native rate), its stakers share the rest per scaled share.
    let r0 = earned1[&val0] - earned0.get(&val0).copied().unwrap_or(0);
    let bps = net.p.delegation().operator(at(aegis_proto::aegis::delegation::v1::QueryOperatorRequest { operator: val0.clone() }, e)).await.unwrap().into_inner().operator.unwrap().commission_rate_bps;
    let commission = r0 * bps as u128 / 10_000;
    let (_, c_before) = net.pending(&val0, &voucher, e - 1).await;
    let (_, c_after) = net.pending(&val0, &voucher, e).await;
    assert_eq!(c_after - c_before, commission, "val0's commission at {bps} bps of {r0}");
    let total_scaled = net.standing(&val0, e).await.shares;
    let deposits = net.p.restaking().staker_deposits(at(aegis_proto::aegis::restaking::v1::QueryStakerDepositsRequest { staker: staker0.clone() }, e)).await.unwrap().into_inner();
    let d = deposits.deposits.iter().find(|d| d.denom == "uaegis").unwrap();
    let scaled = int(&d.deposit_shares) * int(&d.deposit_scaling_factor) / WAD;
    let share = acc_earned_down(scaled, acc_step_down(r0 - commission, total_scaled)).unwrap();
    assert!(share > 0);
    assert_eq!(net.pending(&staker0, &voucher, e).await.0, share, "staker0's {scaled} of val0's {total_scaled} scaled shares");
    // A claim pays what is pending, to the unit.
    let c1 = net.tx("staker0", &["tx", "rewards", "claim"])["height"].as_u64().unwrap();
    let due = net.pending(&staker0, &voucher, c1 - 1).await.0;
    assert!(due >= share);
    assert_eq!(net.balance(&staker0, &voucher, c1).await - net.balance(&staker0, &voucher, c1 - 1).await, due);
    assert_eq!(net.pending(&staker0, &voucher, c1).await.0, 0);
    // So does val0's: its commission and its own stake's rewards.
    let c2 = net.tx("val0", &["tx", "rewards", "claim"])["height"].as_u64().unwrap();
    let (rewards, commission) = net.pending(&val0, &voucher, c2 - 1).await;
    assert!(commission >= c_after);
    assert_eq!(net.balance(&val0, &voucher, c2).await - net.balance(&val0, &voucher, c2 - 1).await, rewards + commission);
    assert_eq!(net.pending(&val0, &voucher, c2).await, (0, 0));
}

/// Evidence JSON as CometBFT's `/block` shows it.
fn evidence_file(dir: &Path, name: &str, a: tendermint::Vote, b: tendermint::Vote) -> String {
    use tendermint_proto::types as raw;
    let timestamp = a.timestamp.map(Into::into);
    let dv = raw::DuplicateVoteEvidence { vote_a: Some(a.into()), vote_b: Some(b.into()), total_voting_power: 0, validator_power: 0, timestamp };
    let ev = raw::Evidence { sum: Some(raw::evidence::Sum::DuplicateVoteEvidence(dv)) };
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&ev).unwrap()).unwrap();
    path.display().to_string()
}

/// Evidence with a forged signature (val1's real precommit from a commit,
/// and one for another block carrying that same signature), and evidence
/// signed by a key no operator ever had: refused (provider 18), nothing
/// changes but the submitter's fee.
async fn bad_evidence(net: &Net, key1: &(String, String)) {
    use tendermint_rpc::Client;
    let val1 = net.addr("val1");
    let faucet = net.addr("faucet");
    let client = tendermint_rpc::HttpClient::new(net.c_rpc.as_str()).unwrap();
    // A recent commit val1's precommit made it into.
    let mut h = height(&net.c_rpc) - 1;
    let (commit, (index, timestamp, signature)) = loop {
        let commit = client.commit(tendermint::block::Height::try_from(h).unwrap()).await.unwrap().signed_header.commit;
        let found = commit.signatures.iter().enumerate().find_map(|(i, s)| match s {
            tendermint::block::CommitSig::BlockIdFlagCommit { validator_address, timestamp, signature } if validator_address.to_string() == key1.0 => {
                Some((i, *timestamp, signature.clone()))
            }
            _ => None,
        });
        if let Some(f) = found {
            break (commit, f);
        }
        h -= 1;
    };
    let real = tendermint::Vote {
        vote_type: tendermint::vote::Type::Precommit,
        height: commit.height,
        round: commit.round,
        block_id: Some(commit.block_id),
        timestamp: Some(timestamp),
        validator_address: key1.0.parse().unwrap(),
        validator_index: (index as u32).try_into().unwrap(),
        signature,
        extension: vec![],
        extension_signature: None,
    };
    let other_block = tendermint::block::Id { hash: tendermint::Hash::Sha256([7; 32]), part_set_header: commit.block_id.part_set_header };
    let forged = tendermint::Vote { block_id: Some(other_block), ..real.clone() };
    let file = evidence_file(&net.dir, "forged.json", real.clone(), forged);

    // Votes by a key that was never any operator's, properly signed.
    let stranger = ed25519_consensus::SigningKey::new(rand::thread_rng());
    let pk = stranger.verification_key().to_bytes();
    let address = tendermint::account::Id::from(tendermint::PublicKey::from_raw_ed25519(&pk).unwrap());
    let chain_id: tendermint::chain::Id = "aegis-consumer-a".parse().unwrap();
    let signed = |block_id: tendermint::block::Id| {
        let mut v = tendermint::Vote { validator_address: address, validator_index: 0u32.try_into().unwrap(), block_id: Some(block_id), signature: None, ..real.clone() };
        let sig = stranger.sign(&v.clone().into_signable_vec(chain_id.clone()));
        v.signature = tendermint::Signature::try_from(sig.to_bytes().as_slice()).ok();
        v
    };
    let stranger_file = evidence_file(&net.dir, "stranger.json", signed(commit.block_id), signed(other_block));

    let h0 = net.committed().await;
    let (standing, opt_in) = (net.standing(&val1, h0).await, net.opt_in(&val1, h0).await);
    for (file, want) in [
        (file, format!("invalid double-vote evidence: vote_b: the signature does not verify for key {} on aegis-consumer-a", key1.1)),
        (stranger_file, format!("invalid double-vote evidence: {} is no operator's key on consumer {}", address.to_string().to_uppercase(), net.id)),
    ] {
        let v = net.refused_tx("faucet", &["tx", "provider", "submit-double-voting", &net.id.to_string(), "--evidence-file", &file]);
        assert_eq!(refusal(&v), ("provider", 18, want.as_str()));
        let h = v["height"].as_u64().unwrap();
        assert_eq!(net.balance(&faucet, "uaegis", h).await, net.balance(&faucet, "uaegis", h - 1).await - FEE, "only the fee is charged");
        assert_eq!((net.standing(&val1, h).await, net.opt_in(&val1, h).await), (standing.clone(), opt_in));
    }
    let h = net.p_height().await;
    wait_for("the provider's next blocks", Duration::from_secs(30), || async { net.p_height().await > h + 1 }).await;
}

/// uaegis minted in block `h` (the supply changes by it, and by burns).
fn provision(net: &Net, h: u64) -> u128 {
    let ev = &rpc(&net.p_rpc, &format!("block_results?height={h}"))["finalize_block_events"];
    attrs(ev, "rewards", "provision").iter().map(|p| int(p)).sum()
}

/// The single transaction of block `h` holding event `kind`: its events.
fn tx_events(base: &str, h: u64, kind: &str) -> Value {
    let txs = rpc(base, &format!("block_results?height={h}"))["txs_results"].clone();
    let mut with: Vec<Value> = txs.as_array().unwrap().iter().filter(|t| t["events"].as_array().unwrap().iter().any(|e| e["type"] == kind)).map(|t| t["events"].clone()).collect();
    assert_eq!(with.len(), 1, "one tx with {kind} at {h}");
    with.remove(0)
}

/// Start aegisd and CometBFT of consumer node `i` again (the test owns them now).
async fn restart_consumer_node(net: &Net, procs: &mut Procs, i: usize) {
    let n = net.node(1, i);
    let home = PathBuf::from(n["home"].as_str().unwrap());
    procs.spawn(&format!("c{i}-aegisd"), Command::new(AEGISD).args(["start", "--home"]).arg(&home), &home.join("aegisd.log"));
    let abci = n["abci"].as_str().unwrap().trim_start_matches("tcp://").to_string();
    wait_for("the restarted aegisd's ABCI port", Duration::from_secs(30), || async { std::net::TcpStream::connect(&abci).is_ok() }).await;
    procs.spawn(&format!("c{i}-cometbft"), Command::new(common::cometbft()).args(["node", "--home"]).arg(&home), &home.join("cometbft.log"));
}

/// val1's and then val2's consumer nodes stop. The consumer reports both
/// (val1 first); its packets go out once its CCV channel is established,
/// by the first validator-set packet, one at a time. Relayed within one
/// provider epoch, val1's jails it on the consumer and fills the epoch's
/// bound, so val2's bounces. Returns the thread starting val1's twin.
async fn downtime_within_the_jail_bound(net: &Net, procs: &mut Procs, other: u64) -> std::thread::JoinHandle<(bool, String)> {
    use ibc_proto::ibc::core::channel::v1 as ch;
    let (val1, val2) = (net.addr("val1"), net.addr("val2"));
    let keys: Vec<(String, String)> = (0..3).map(|i| net.consumer_key(i)).collect();
    let id = net.id;
    let p_chan = net.relayer()["path"][0]["channel_id"].as_str().unwrap().to_string();
    // Nothing changed the consumer's set since its launch: no packet yet.
    assert_eq!(provider_commitments(net, &p_chan).await, 0);
    let h0 = net.committed().await;
    let standing = net.standing(&val1, h0).await;
    assert_eq!(standing.allocations, BTreeMap::from([(id, ALLOCATIONS[1]), (other, OTHER_AVS_ALLOCATION)]), "val1's allocations");

    // The relayer stops: this part is relayed from here, with its code.
    kill_recorded(&net.dir, "relayer-consumer1");
    kill_recorded(&net.dir, "aegis-consumer-a-val1-");
    let c = height(&net.c_rpc);
    wait_for("three consumer blocks", Duration::from_secs(30), || async { height(&net.c_rpc) >= c + 3 }).await;
    kill_recorded(&net.dir, "aegis-consumer-a-val2-");
    // staker2 adds to val2's stake: the next epoch end sends a set.
    net.tx("staker2", &["tx", "restaking", "deposit", "1000000000uaegis"]);
    wait_for("both reported", Duration::from_secs(90), || async { net.consumer_queue().await.0.len() == 2 }).await;
    assert_eq!(net.consumer_queue().await, (vec![keys[1].0.clone(), keys[2].0.clone()], None), "val1's packet first, none sent yet");
    wait_for("the first validator-set packet sent", Duration::from_secs(60), || async { provider_commitments(net, &p_chan).await == 1 }).await;
    let cfg = RelayerConfig::load(Path::new(net.relayer()["config"].as_str().unwrap())).unwrap();
    let mut chains = [Chain::connect(&cfg.chains[0]).await.unwrap(), Chain::connect(&cfg.chains[1]).await.unwrap()];
    let ends = [cfg.path.end(0), cfg.path.end(1)];
    let dirs: Vec<relay::Direction> = open_directions(&chains, &ends).await.unwrap().into_iter().filter(|d| d.src_port == "provider" || d.src_port == "consumer").collect();
    assert_eq!(dirs.len(), 2, "the CCV channel, both ways");
    let search_id = |kind: &str| search(&net.p_rpc, "tx", &format!("{kind}.consumer_id='{id}'"));
    let (to_consumer, to_provider) = if dirs[0].src == 0 { (&dirs[0], &dirs[1]) } else { (&dirs[1], &dirs[0]) };
    // The set (and its ack back): the consumer's CCV channel is established
    // and its first slash packet goes out in that block.
    relay::round(&mut chains, to_consumer).await.unwrap();
    let delivered = net.p_height().await;
    // The consumer waits for the answer to val1's packet before it sends
    // val2's: relay both early in an epoch, so that both answers fall in it.
    if delivered % EPOCH > 2 {
        let next = delivered.next_multiple_of(EPOCH);
        wait_for("the next epoch", Duration::from_secs(60), || async { net.p_height().await >= next }).await;
    }
    let until_of = |j: u64| block_time(&net.p_rpc, j) + 10;
    let p1 = power(genesis_tokens(), ALLOCATIONS[1]) as i64;
    let p2 = power(genesis_tokens() + 1_000_000_000, ALLOCATIONS[2]) as i64;
    // (State is kept for recent heights only: each height is read as soon as it is known.)
    let (mut j, mut b) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(90);
    while b.is_none() || net.consumer_queue().await.1 != Some(false) {
        relay::round(&mut chains, to_provider).await.unwrap();
        if let (None, Some(&h)) = (j, search_id("consumer_jail").first()) {
            j = Some(h);
            assert_eq!(attrs(&tx_events(&net.p_rpc, h, "consumer_jail"), "consumer_jail", "operator"), vec![val1.clone()]);
            assert_eq!(net.opt_in(&val1, h).await, (p1, until_of(h), false), "val1 jailed on the consumer for its 10 s");
            // Its provider stake and both allocations are what they were; nothing burned.
            assert_eq!(net.standing(&val1, h).await, standing);
            assert_eq!(net.supply(h).await, net.supply(h - 1).await + provision(net, h), "only the block's provision was minted at {h}");
        }
        if let (None, Some(&h)) = (b, search_id("consumer_slash_bounced").first()) {
            b = Some(h);
            assert_eq!(attrs(&tx_events(&net.p_rpc, h, "consumer_slash_bounced"), "consumer_slash_bounced", "operator"), vec![val2.clone()]);
            assert_eq!(net.opt_in(&val2, h).await, (p2, 0, false), "val2 not jailed: its packet bounced");
        }
        assert!(Instant::now() < deadline, "the two slash packets were not answered within 90 s");
    }
    drop(chains);
    let cfg_path = net.relayer()["config"].as_str().unwrap().to_string();
    procs.spawn("relayer", Command::new(AEGISD).args(["relayer", "start", "--config", &cfg_path]), &net.dir.join("relayer-test.log"));
    let (j, b) = (j.unwrap(), b.unwrap());
    eprintln!("first set delivered by provider height {delivered}; val1 jailed at {j}; val2's packet bounced at {b} (epochs of {EPOCH})");
    assert_eq!(j / EPOCH, b / EPOCH, "both packets in one epoch");
    assert_eq!((search_id("consumer_jail").len(), search_id("consumer_slash_bounced").len()), (1, 1), "one jailing, one bounce");
    let until = until_of(j);
    // The bounced packet waits at the head of the consumer's queue (ICS
    // retries it after its retry delay, an hour); the provider goes on.
    let (queue, waiting) = net.consumer_queue().await;
    assert_eq!((queue.first(), waiting), (Some(&keys[2].0), Some(false)));
    wait_for("provider blocks after the bounce", Duration::from_secs(30), || async { net.p_height().await > b + 2 }).await;

    // Anyone may relay val1's packet again (its original proof): a no-op.
    let faucet = Signer::from_mnemonic(net.account(0, "faucet")["mnemonic"].as_str().unwrap()).unwrap();
    let original = recv_msg(net, j);
    let p = original.packet.clone().unwrap();
    assert_eq!((p.source_port.as_str(), p.sequence), ("consumer", 1));
    let next_recv = || async {
        let r: ch::QueryNextSequenceReceiveResponse =
            net.p.query("/ibc.core.channel.v1.Query/NextSequenceReceive", &ch::QueryNextSequenceReceiveRequest { port_id: "provider".into(), channel_id: p_chan.clone() }).await.unwrap();
        r.next_sequence_receive
    };
    let next = next_recv().await;
    let price = aegis_app::auth::params::MinGasPrice::parse("0.025uaegis").unwrap();
    let replay = ch::MsgRecvPacket { signer: faucet.address.to_string(), ..original.clone() };
    let r = net.p.sign_and_broadcast(&faucet, vec![aegis_app::signer::pack("/ibc.core.channel.v1.MsgRecvPacket", &replay)], Some(400_000), &price, "", Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(r.code, 0, "{}", r.raw_log);
    net.settle(r.height as u64);
    let resp = aegis_node::client::msg_responses(&r).unwrap();
    let resp: ch::MsgRecvPacketResponse = prost::Message::decode(resp[0].value.as_slice()).unwrap();
    assert_eq!(resp.result, ch::ResponseResultType::Noop as i32, "a redundant relay");
    assert_eq!((search_id("consumer_jail"), next_recv().await), (vec![j], next), "no second jailing");
    let (_, jailed_until, tombstoned) = net.opt_in(&val1, r.height as u64).await;
    assert_eq!((jailed_until, tombstoned), (until, false), "val1's jail is as it was");
    // A slash packet the consumer never sent (about an address that was
    // never a validator's there), with a real proof of another packet:
    // refused by the proof check before the provider module sees it.
    let mut forged = p.clone();
    forged.sequence = next;
    let slash = aegis_app::ccv::SlashPacket { validator_address: [0xAB; 20], power: 1, valset_update_id: 1, infraction: aegis_app::ccv::Infraction::Downtime };
    forged.data = aegis_app::ccv::ConsumerPacket::Slash(slash).encode();
    let msg = ch::MsgRecvPacket { packet: Some(forged), signer: faucet.address.to_string(), ..original };
    let before = net.balance(&faucet.address.to_string(), "uaegis", net.committed().await).await;
    let r = net.p.sign_and_broadcast(&faucet, vec![aegis_app::signer::pack("/ibc.core.channel.v1.MsgRecvPacket", &msg)], Some(400_000), &price, "", Some(Duration::from_secs(30))).await.unwrap();
    net.settle(r.height as u64);
    assert_eq!(
        (r.codespace.as_str(), r.code, r.raw_log.as_str()),
        ("ibc", 4, "failed to execute message; message index: 0: channel error: client error: failed ICS23 verification: failed to verify membership")
    );
    assert_eq!((search_id("consumer_jail"), search_id("consumer_slash_ignored"), next_recv().await), (vec![j], vec![], next));
    assert_eq!(net.balance(&faucet.address.to_string(), "uaegis", r.height as u64).await, before - FEE);

    // The next epoch end leaves val1 out of the consumer's set.
    let a1 = keys[1].0.clone();
    wait_for("val1 out of the consumer's CometBFT set", Duration::from_secs(90), || async { !net.consumer_set().contains_key(&a1) }).await;
    assert!(!net.sent_set(net.committed().await).await.contains_key(&val1));

    // Both nodes come back; val1's twin (same consensus key, started now so
    // it is in step when val1 validates again) double-signs from then on.
    restart_consumer_node(net, procs, 1).await;
    restart_consumer_node(net, procs, 2).await;
    let (dir, twin_index) = (net.dir.clone(), net.e["chains"][0]["nodes"].as_array().unwrap().len() + 1);
    let twin = std::thread::spawn(move || devnet(&["twin", &twin_index.to_string()], &dir));
    let n1 = net.node(1, 1)["rpc"].as_str().unwrap().to_string();
    wait_for("val1's node caught up", Duration::from_secs(120), || async {
        let s = rpc(&n1, "status")["sync_info"].clone();
        s["catching_up"] == false && s["latest_block_height"].as_str().unwrap().parse::<u64>().unwrap() + 2 >= height(&net.c_rpc)
    })
    .await;
    let r = net.tx("val1", &["tx", "provider", "unjail", &id.to_string()]);
    let u = r["height"].as_u64().unwrap();
    assert!(block_time(&net.p_rpc, u) >= until);
    let (_, jailed_until, tombstoned) = net.opt_in(&val1, u).await;
    assert_eq!((jailed_until, tombstoned), (0, false), "unjailed; back at the next epoch end");
    wait_for("val1 back in the consumer's CometBFT set", Duration::from_secs(90), || async { net.consumer_set().get(&a1) == Some(&(p1 as u64)) }).await;
    assert_eq!(net.standing(&val1, net.committed().await).await, standing);
    twin
}

/// Packets the provider sent on the CCV channel that are not yet acknowledged.
async fn provider_commitments(net: &Net, channel: &str) -> usize {
    use ibc_proto::ibc::core::channel::v1 as ch;
    let req = ch::QueryPacketCommitmentsRequest { port_id: "provider".into(), channel_id: channel.into(), pagination: None };
    let r: ch::QueryPacketCommitmentsResponse = net.p.query("/ibc.core.channel.v1.Query/PacketCommitments", &req).await.unwrap();
    r.commitments.len()
}

/// The MsgRecvPacket of the consumer's CCV packet received in block `h`.
fn recv_msg(net: &Net, h: u64) -> ibc_proto::ibc::core::channel::v1::MsgRecvPacket {
    use cosmos_sdk_proto::cosmos::tx::v1beta1::{TxBody, TxRaw};
    use prost::Message;
    let block = rpc(&net.p_rpc, &format!("block?height={h}"));
    for tx in block["block"]["data"]["txs"].as_array().unwrap() {
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, tx.as_str().unwrap()).unwrap();
        let body = TxBody::decode(TxRaw::decode(bytes.as_slice()).unwrap().body_bytes.as_slice()).unwrap();
        for any in body.messages.iter().filter(|m| m.type_url == "/ibc.core.channel.v1.MsgRecvPacket") {
            let m = ibc_proto::ibc::core::channel::v1::MsgRecvPacket::decode(any.value.as_slice()).unwrap();
            if m.packet.as_ref().is_some_and(|p| p.destination_port == "provider") {
                return m;
            }
        }
    }
    panic!("no CCV packet received at {h}");
}

/// The twin makes CometBFT record val1's duplicate votes; the relayer
/// submits them; the provider slashes 5% of val1's allocation to the
/// consumer (and nothing else) and tombstones it there. A restarted relayer
/// and the CLI find the evidence already judged.
async fn double_sign(net: &Net, procs: &mut Procs, other: u64, twin: std::thread::JoinHandle<(bool, String)>) {
    let (val1, id) = (net.addr("val1"), net.id);
    let (ok, out) = twin.join().unwrap();
    assert!(ok, "devnet.sh twin:\n{out}");
    wait_for("val1 tombstoned on the consumer", Duration::from_secs(120), || async { net.opt_in(&val1, net.committed().await).await.2 }).await;
    kill_recorded(&net.dir, "aegis-consumer-a-val1-twin");
    let judged = search(&net.p_rpc, "tx", &format!("consumer_double_vote.consumer_id='{id}'"));
    assert_eq!(judged.len(), 1);
    let h = judged[0];
    let events = tx_events(&net.p_rpc, h, "consumer_double_vote");
    let relayer = net.e["relayers"][0]["config"].as_str().unwrap().to_string();
    let cfg = RelayerConfig::load(Path::new(&relayer)).unwrap();
    let submitter = aegis_node::keys::Keyring::open(&cfg.chains[0].keyring_home).signer(&cfg.chains[0].key_name).unwrap().address.to_string();
    assert_eq!(attrs(&events, "tx", "fee_payer"), vec![submitter], "submitted by the relayer");
    assert_eq!(attrs(&events, "consumer_double_vote", "operator"), vec![val1.clone()]);

    // Exactly 5% of the 0.1 allocated to the consumer; the other allocation stays.
    let (before, after) = (net.standing(&val1, h - 1).await, net.standing(&val1, h).await);
    let slashed = ALLOCATIONS[1] * DOUBLE_SIGN_FRACTION / WAD;
    let burned = before.tokens * slashed / before.max_magnitude;
    assert_eq!(burned, 550_000_000);
    let mut want = before.clone();
    want.max_magnitude -= slashed;
    want.tokens -= burned;
    want.shares = before.shares * want.max_magnitude / before.max_magnitude;
    *want.allocations.get_mut(&id).unwrap() -= slashed;
    assert_eq!(after, want);
    assert_eq!(after.allocations[&other], OTHER_AVS_ALLOCATION);
    assert_eq!(attrs(&events, "slash", "tokens"), vec![format!("{burned}uaegis")]);
    assert_eq!(net.supply(h).await, net.supply(h - 1).await + provision(net, h) - burned, "burned at {h}");
    for v in ["val0", "val2"] {
        assert_eq!(net.standing(&net.addr(v), h).await, net.standing(&net.addr(v), h - 1).await, "{v} untouched");
    }
    let (_, jailed_until, tombstoned) = net.opt_in(&val1, h).await;
    assert_eq!((jailed_until, tombstoned), (0, true));

    // Restarted, the relayer reads the evidence again and finds it judged.
    procs.kill("relayer");
    let log = net.dir.join("relayer-test-restarted.log");
    procs.spawn("relayer", Command::new(AEGISD).args(["relayer", "start", "--config", &relayer]), &log);
    wait_for("the restarted relayer to find the evidence judged", Duration::from_secs(60), || async {
        std::fs::read_to_string(&log).unwrap_or_default().contains("already judged")
    })
    .await;
    assert_eq!(search(&net.p_rpc, "tx", &format!("consumer_double_vote.consumer_id='{id}'")), judged, "nothing submitted twice");
    // So does the CLI, given the consumer block that holds the evidence.
    let text = std::fs::read_to_string(net.dir.join("relayer-test.log")).unwrap() + &std::fs::read_to_string(&log).unwrap();
    let line = text.lines().find(|l| l.contains("double vote submitted as evidence")).expect("the relayer's submission");
    let block = line.split("block=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let c_rpc = net.c_rpc.clone();
    let v = net.refused_tx("faucet", &["tx", "provider", "submit-double-voting", &id.to_string(), "--consumer-rpc", &c_rpc, "--height", &block]);
    assert_eq!(refusal(&v), ("provider", 19, format!("operator {val1} is already tombstoned on consumer {id}").as_str()));
    // It leaves the consumer's set at the next epoch end.
    let a1 = net.consumer_key(1).0;
    wait_for("val1 out of the consumer's set for good", Duration::from_secs(90), || async { !net.consumer_set().contains_key(&a1) }).await;
}
