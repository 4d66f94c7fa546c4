//! Consumer chains end to end: `scripts/devnet.sh up --consumers 1` runs a
//! provider and a consumer chain (real CometBFT on both), the consumer
//! started from the genesis the provider published at launch, joined by a
//! CCV path that `aegisd relayer` opened over the clients both chains
//! already had. Then: the consumer's validators are the operators that
//! opted in, with powers from their allocations and the strategy weight,
//! signing with the keys they assigned; an operator joins with `aegisd
//! consumer join` and one leaves with opt-out, each seen in the consumer's
//! CometBFT set after the next epoch end and a relay; the reward `transfer`
//! channel the consumer starts at the CCV handshake is finished by the
//! relayer and carries a transfer; and validator-set packets sent while the relayer is down
//! arrive, in order and once, after it restarts.
//! Ports 28900-29400.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aegis_app::signer::Signer;
use aegis_app::types::NATIVE_DENOM;
use aegis_node::client::GrpcClient;
use common::{devnet_script as devnet, http_get, ScriptDown as Down, AEGISD};
use ibc_proto::ibc::core::channel::v1 as ch;
use serde_json::Value;

const BASE_PORT: u16 = 28900;
/// The joining operator's node (ports 29355-29359).
const JOIN_BASE_PORT: u16 = 29300;
const POWER_REDUCTION: u128 = 1_000_000;
const WAD: u128 = 1_000_000_000_000_000_000;

/// One devnet at a time: each is a dozen processes on two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A CLI call that must succeed; its stdout as JSON (or Null).
fn aegisd(args: &[&str]) -> Value {
    let out = Command::new(AEGISD).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "aegisd {}:\n{stdout}\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or(Value::Null)
}

/// The `result` of a CometBFT RPC GET.
fn rpc(base: &str, path: &str) -> Value {
    let text = http_get(&format!("{base}/{path}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    v["result"].clone()
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The devnet as `endpoints.json` describes it.
struct Net {
    dir: PathBuf,
    e: Value,
}

impl Net {
    fn up(dir: &Path, args: &[&str]) -> Net {
        let mut all = vec!["up", "--consumers", "1", "--base-port"];
        let base = BASE_PORT.to_string();
        all.push(&base);
        all.extend_from_slice(args);
        let started = Instant::now();
        let (ok, out) = devnet(&all, dir);
        assert!(ok, "devnet.sh {}:\n{out}", all.join(" "));
        eprintln!("devnet.sh {} took {:?}", all.join(" "), started.elapsed());
        let e: Value = serde_json::from_slice(&std::fs::read(dir.join("endpoints.json")).unwrap()).unwrap();
        Net { dir: dir.to_path_buf(), e }
    }
    fn provider(&self, i: usize) -> &Value {
        &self.e["chains"][0]["nodes"][i]
    }
    fn consumer(&self) -> &Value {
        &self.e["chains"][1]
    }
    fn consumer_rpc(&self) -> String {
        self.consumer()["nodes"][0]["rpc"].as_str().unwrap().into()
    }
    fn p_grpc(&self, i: usize) -> String {
        self.provider(i)["grpc"].as_str().unwrap().into()
    }
    fn id(&self) -> String {
        self.consumer()["consumer_id"].to_string()
    }
    fn operator(&self, name: &str) -> String {
        let accounts = self.e["chains"][0]["accounts"].as_array().unwrap();
        accounts.iter().find(|a| a["name"] == name).unwrap()["address"].as_str().unwrap().into()
    }
    /// Consumer node `i`'s consensus key: (CometBFT address, base64 public key).
    fn consumer_key(&self, i: usize) -> (String, String) {
        key_of(Path::new(self.consumer()["nodes"][i]["home"].as_str().unwrap()))
    }
    /// uaegis delegated to operator `name` (what its allocations are fractions of).
    fn tokens(&self, name: &str) -> u128 {
        let op = aegisd(&["query", "delegation", "operator", &self.operator(name), "--grpc", &self.p_grpc(0)]);
        let stake = op["operator"]["stake"].as_array().unwrap();
        stake.iter().find(|s| s["denom"] == NATIVE_DENOM).unwrap()["tokens"].as_str().unwrap().parse().unwrap()
    }
    fn provider_consumer(&self) -> Value {
        aegisd(&["query", "provider", "consumer", &self.id(), "--grpc", &self.p_grpc(0)])["consumer"].clone()
    }
    fn consumer_status(&self) -> Value {
        aegisd(&["query", "consumer", "status", "--grpc", self.consumer()["nodes"][0]["grpc"].as_str().unwrap()])
    }
}

fn key_of(home: &Path) -> (String, String) {
    let v: Value = serde_json::from_slice(&std::fs::read(home.join("config/priv_validator_key.json")).unwrap()).unwrap();
    (v["address"].as_str().unwrap().into(), v["pub_key"]["value"].as_str().unwrap().into())
}

/// Power of `tokens` allocated at `magnitude` (a WAD) to a strategy of weight 1.
fn power(tokens: u128, magnitude: u128) -> u64 {
    (tokens * magnitude / WAD / POWER_REDUCTION) as u64
}

/// The consumer's CometBFT validator set: address -> power.
fn cometbft_validators(rpc_url: &str) -> BTreeMap<String, u64> {
    let v = rpc(rpc_url, "validators?per_page=100");
    v["validators"].as_array().unwrap().iter().map(|v| (v["address"].as_str().unwrap().into(), v["voting_power"].as_str().unwrap().parse().unwrap())).collect()
}

/// The addresses whose signatures (flag 2: for the block) are in the commit of `height`.
fn signers(rpc_url: &str, height: u64) -> Vec<String> {
    let c = rpc(rpc_url, &format!("commit?height={height}"));
    let sigs = c["signed_header"]["commit"]["signatures"].as_array().unwrap();
    sigs.iter().filter(|s| s["block_id_flag"] == 2).map(|s| s["validator_address"].as_str().unwrap().to_string()).collect()
}

fn height(rpc_url: &str) -> u64 {
    rpc(rpc_url, "status")["sync_info"]["latest_block_height"].as_str().unwrap().parse().unwrap()
}

/// Processes the test starts itself; killed on drop.
#[derive(Default)]
struct Procs(Vec<Child>);

impl Procs {
    fn spawn(&mut self, cmd: &mut Command, log: &Path) {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        self.0.push(cmd.stdout(f.try_clone().unwrap()).stderr(f).stdin(Stdio::null()).spawn().unwrap());
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn consumer_launches_with_its_opted_in_operators_and_follows_joins_and_opt_outs() {
    let _one = ONE_AT_A_TIME.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("devnet");
    let _down = Down(dir.clone());
    // val0 and val1 validate the consumer; val2 joins it later.
    let net = Net::up(&dir, &["--validators", "3", "--consumer-validators", "2"]);
    let c_rpc = net.consumer_rpc();
    assert_eq!(net.consumer()["role"], "consumer");
    assert_eq!(net.consumer()["chain_id"], "aegis-consumer-a");
    let relayer = &net.e["relayers"][0];
    assert_eq!((relayer["kind"].as_str(), relayer["consumer_id"].to_string()), (Some("ccv"), net.id()));
    assert_eq!((relayer["path"][0]["port"].as_str(), relayer["path"][1]["port"].as_str()), (Some("provider"), Some("consumer")));
    let c = net.provider_consumer();
    assert_eq!((c["phase"].as_str(), c["channel_id"].as_str()), (Some("launched"), relayer["path"][0]["channel_id"].as_str()));

    // 1. The initial set: val0 and val1 with uaegis=0.5 (weight 1), signing
    // with their consumer nodes' keys, not their provider keys.
    let (a0, k0) = net.consumer_key(0);
    let (a1, k1) = net.consumer_key(1);
    let want: BTreeMap<String, u64> = [(a0.clone(), power(net.tokens("val0"), WAD / 2)), (a1.clone(), power(net.tokens("val1"), WAD / 2))].into();
    assert_eq!(cometbft_validators(&c_rpc), want, "the consumer starts with the opted-in operators' keys and powers");
    let provider_keys: Vec<String> = (0..3).map(|i| key_of(Path::new(net.provider(i)["home"].as_str().unwrap())).0).collect();
    assert!(!provider_keys.contains(&a0) && !provider_keys.contains(&a1), "consumer keys differ from provider keys");
    let h = height(&c_rpc) - 1;
    let mut signed = signers(&c_rpc, h);
    signed.sort();
    // Neither holds 2/3 of the power alone, so every commit carries both.
    assert_eq!(signed, want.keys().cloned().collect::<Vec<_>>(), "commit {h} is signed by the assigned consumer keys");
    // The consumer's CCV channel is established by its first packet: none yet.
    let status = net.consumer_status();
    assert_eq!((status["ccv_channel_state"].as_str(), status["last_valset_update_id"].as_str()), (Some("none"), Some("0")), "{status}");
    let genesis = rpc(&c_rpc, "genesis");
    let initial = &genesis["genesis"]["app_state"]["consumer"]["provider"]["initial_val_set"];
    assert_eq!(initial.as_array().unwrap().len(), 2);
    let keys: Vec<&str> = initial.as_array().unwrap().iter().map(|v| v["pub_key"]["ed25519"].as_str().unwrap()).collect();
    assert!(keys.contains(&k0.as_str()) && keys.contains(&k1.as_str()), "{initial}");

    // 3. val2 joins the running consumer in one command, allocating 0.25.
    let join_home = tmp.path().join("join-val2");
    let out = Command::new(AEGISD)
        .args(["consumer", "join", &net.id(), "--home"])
        .arg(&join_home)
        .args(["--keyring-home", net.provider(2)["home"].as_str().unwrap(), "--from", "val2", "--grpc", &net.p_grpc(2)])
        .args(["--allocate", "uaegis=0.25", "--genesis", &c_rpc, "--base-port", &JOIN_BASE_PORT.to_string()])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "consumer join:\n{printed}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("opted in on the provider") && printed.contains(&format!("cometbft node --home {}", join_home.display())), "{printed}");
    let joined: Value = serde_json::from_slice(&std::fs::read(join_home.join("config/genesis.json")).unwrap()).unwrap();
    assert_eq!(joined, genesis["genesis"], "the joining node has the consumer's genesis");
    let mut procs = Procs::default();
    procs.spawn(Command::new(AEGISD).args(["start", "--home"]).arg(&join_home), &join_home.join("aegisd.log"));
    std::thread::sleep(Duration::from_secs(1));
    procs.spawn(Command::new(common::cometbft()).args(["node", "--home"]).arg(&join_home), &join_home.join("cometbft.log"));
    let (a2, _) = key_of(&join_home);
    let p2 = power(net.tokens("val2"), WAD / 4);
    let started = Instant::now();
    wait_for("val2's consumer key in the consumer's CometBFT set", Duration::from_secs(90), || async { cometbft_validators(&c_rpc).get(&a2) == Some(&p2) }).await;
    eprintln!("val2 validated the consumer {:?} after joining", started.elapsed());
    let status = net.consumer_status();
    assert_eq!((status["ccv_channel_state"].as_str(), status["last_valset_update_id"].as_str()), (Some("open"), Some("1")), "{status}");
    wait_for("a consumer block signed by val2's node", Duration::from_secs(60), || async {
        let h = height(&c_rpc) - 1;
        signers(&c_rpc, h).contains(&a2)
    })
    .await;

    // Joining a consumer that has not launched yet: the opt-in goes out,
    // the command says when it launches; run again, it sends nothing.
    let out = aegisd(&[
        "tx", "provider", "create-consumer", "--consumer-chain-id", "aegis-consumer-late", "--spawn-time", "+3600", "--strategy", "uaegis=1",
        "--from", "faucet", "--home", net.provider(0)["home"].as_str().unwrap(), "--grpc", &net.p_grpc(0),
    ]);
    let late = out["responses"].as_array().unwrap().iter().find_map(|r| r["consumer_id"].as_str()).unwrap().to_string();
    let late_home = tmp.path().join("join-late");
    let join_late = || {
        let out = Command::new(AEGISD)
            .args(["consumer", "join", &late, "--home"])
            .arg(&late_home)
            .args(["--keyring-home", net.provider(2)["home"].as_str().unwrap(), "--from", "val2", "--grpc", &net.p_grpc(2), "--base-port", "29310"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let first = join_late();
    assert!(first.contains("opted in on the provider") && first.contains("has not launched") && first.contains("in 3"), "{first}");
    assert!(!late_home.join("config/genesis.json").exists(), "no genesis before the launch");
    let again = join_late();
    assert!(again.contains("already opted in") && !again.contains("tx "), "{again}");
    let opt_ins = aegisd(&["query", "provider", "operator-consumers", &net.operator("val2"), "--grpc", &net.p_grpc(0)]);
    let key = opt_ins["opt_ins"].as_array().unwrap().iter().find(|o| o["consumer_id"].as_u64() == late.parse().ok()).unwrap()["consumer_key"].clone();
    let late_key = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, key_of(&late_home).1).unwrap();
    assert_eq!(key.as_str(), Some(hex::encode(late_key).as_str()), "opted in with the new home's key");

    // 2. val1 opts out: after the next epoch end and the relay, it is gone.
    aegisd(&["tx", "provider", "opt-out", &net.id(), "--from", "val1", "--home", net.provider(1)["home"].as_str().unwrap(), "--grpc", &net.p_grpc(1)]);
    let started = Instant::now();
    wait_for("val1's consumer key out of the consumer's CometBFT set", Duration::from_secs(90), || async { !cometbft_validators(&c_rpc).contains_key(&a1) }).await;
    eprintln!("val1 left the consumer's set {:?} after opting out", started.elapsed());
    let now: BTreeMap<String, u64> = [(a0.clone(), want[&a0]), (a2.clone(), p2)].into();
    assert_eq!(cometbft_validators(&c_rpc), now);
    let sent = aegisd(&["query", "provider", "consumer-validators", &net.id(), "--grpc", &net.p_grpc(0)]);
    let sent: BTreeMap<String, u64> =
        sent["validators"].as_array().unwrap().iter().map(|v| (v["consumer_address"].as_str().unwrap().into(), v["power"].as_u64().unwrap())).collect();
    assert_eq!(sent, now, "the provider's record of the set it sent");
    let status = net.consumer_status();
    assert_eq!(status["last_valset_update_id"].as_str(), Some(net.provider_consumer()["valset_update_id"].to_string().as_str()));

    // The consumer opened its reward `transfer` channel itself at the CCV
    // channel's ChanOpenAck (as ICS consumers do); the relayer finished
    // that handshake (Try, Ack, Confirm) and relays it like the CCV channel.
    let c_grpc = GrpcClient::connect(net.consumer()["nodes"][0]["grpc"].as_str().unwrap()).await.unwrap();
    let p_grpc = GrpcClient::connect(&net.p_grpc(0)).await.unwrap();
    let faucet = consumer_account(&net, "faucet");
    let chan_c = status["params"]["distribution_transmission_channel"].as_str().unwrap().to_string();
    assert!(!chan_c.is_empty(), "the consumer opened its reward channel: {status}");
    let connection = relayer["path"][1]["connection_id"].as_str().unwrap().to_string();
    let p_connection = relayer["path"][0]["connection_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let chan_p = loop {
        let c_end = connection_channels(&c_grpc, &connection).await.into_iter().find(|c| c.port_id == "transfer" && c.channel_id == chan_c).unwrap();
        let cp = c_end.counterparty.clone().unwrap();
        let p_end = connection_channels(&p_grpc, &p_connection).await.into_iter().find(|c| c.port_id == "transfer" && c.channel_id == cp.channel_id);
        if let Some(p_end) = p_end {
            if c_end.state == ch::State::Open as i32 && p_end.state == ch::State::Open as i32 {
                assert_eq!(p_end.counterparty.unwrap().channel_id, chan_c);
                break p_end.channel_id;
            }
        }
        assert!(Instant::now() < deadline, "the relayer did not finish the reward channel's handshake within 60 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let receiver = Signer::from_secret(&[9u8; 32]).unwrap();
    send(&c_grpc, &faucet, vec![aegis_app::testkit::ibc::transfer_msg(&faucet.address, &chan_c, &receiver.address.to_string(), NATIVE_DENOM, 7_000, 1_000_000)]).await;
    let voucher = format!("ibc/{}", aegis_app::ibc::transfer::denom_hash(&format!("transfer/{chan_p}/{NATIVE_DENOM}")));
    wait_for("the consumer's transfer received on the provider", Duration::from_secs(60), || async {
        p_grpc.balance(&receiver.address, &voucher).await.unwrap() == 7_000
    })
    .await;
    drop(procs);
}

fn consumer_account(net: &Net, name: &str) -> Signer {
    let accounts = net.consumer()["accounts"].as_array().unwrap();
    Signer::from_mnemonic(accounts.iter().find(|a| a["name"] == name).unwrap()["mnemonic"].as_str().unwrap()).unwrap()
}

async fn send(c: &GrpcClient, from: &Signer, msgs: Vec<cosmrs::Any>) {
    let price = aegis_app::auth::params::MinGasPrice::parse("0.025uaegis").unwrap();
    let r = c.sign_and_broadcast(from, msgs, None, &price, "", Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(r.code, 0, "tx failed: {}", r.raw_log);
}

async fn connection_channels(c: &GrpcClient, connection: &str) -> Vec<ch::IdentifiedChannel> {
    let r: ch::QueryConnectionChannelsResponse = c
        .query("/ibc.core.channel.v1.Query/ConnectionChannels", &ch::QueryConnectionChannelsRequest { connection: connection.into(), pagination: None })
        .await
        .unwrap();
    r.channels
}

async fn commitments(c: &GrpcClient, port: &str, channel: &str) -> Vec<u64> {
    let r: ch::QueryPacketCommitmentsResponse = c
        .query("/ibc.core.channel.v1.Query/PacketCommitments", &ch::QueryPacketCommitmentsRequest { port_id: port.into(), channel_id: channel.into(), pagination: None })
        .await
        .unwrap();
    let mut seqs: Vec<u64> = r.commitments.iter().map(|p| p.sequence).collect();
    seqs.sort();
    seqs
}

async fn next_sequence_recv(c: &GrpcClient, port: &str, channel: &str) -> u64 {
    let r: ch::QueryNextSequenceReceiveResponse = c
        .query("/ibc.core.channel.v1.Query/NextSequenceReceive", &ch::QueryNextSequenceReceiveRequest { port_id: port.into(), channel_id: channel.into() })
        .await
        .unwrap();
    r.next_sequence_receive
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

/// Transactions on the consumer whose `kind` event names packet `seq`.
fn txs_with(rpc_url: &str, kind: &str, seq: u64) -> u64 {
    let r = rpc(rpc_url, &format!("tx_search?query=%22{kind}.packet_sequence=%27{seq}%27%22"));
    r["total_count"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn validator_set_packets_sent_while_the_relayer_is_down_arrive_in_order_and_once_after_it_restarts() {
    let _one = ONE_AT_A_TIME.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("devnet");
    let _down = Down(dir.clone());
    let net = Net::up(&dir, &["--validators", "2"]);
    let c_rpc = net.consumer_rpc();
    let relayer = net.e["relayers"][0].clone();
    let (p_chan, c_chan) = (relayer["path"][0]["channel_id"].as_str().unwrap().to_string(), relayer["path"][1]["channel_id"].as_str().unwrap().to_string());
    let p_grpc = GrpcClient::connect(&net.p_grpc(0)).await.unwrap();
    let c_grpc = GrpcClient::connect(net.consumer()["nodes"][0]["grpc"].as_str().unwrap()).await.unwrap();
    // Nothing changed since the launch: no packet yet.
    assert!(commitments(&p_grpc, "provider", &p_chan).await.is_empty());
    let delivered = next_sequence_recv(&c_grpc, "consumer", &c_chan).await;
    assert_eq!(delivered, 1);
    let sent_before = net.provider_consumer()["valset_update_id"].as_u64().unwrap();

    kill_recorded(&net.dir, "relayer-consumer1");
    // Two changes in two epochs, so two packets wait: val1 lowers its
    // allocation to 0.25, then (once the first packet is sent) val0 to 0.3.
    let allocate = |who: &str, i: usize, m: &str| {
        let home = net.provider(i)["home"].as_str().unwrap().to_string();
        aegisd(&["tx", "avs", "allocate", "--allocation", &format!("{}/0/uaegis={m}", net.id()), "--from", who, "--home", &home, "--grpc", &net.p_grpc(i)]);
    };
    allocate("val1", 1, "0.25");
    wait_for("the first packet sent", Duration::from_secs(60), || async { commitments(&p_grpc, "provider", &p_chan).await.len() == 1 }).await;
    allocate("val0", 0, "0.3");
    wait_for("the second packet sent", Duration::from_secs(60), || async { commitments(&p_grpc, "provider", &p_chan).await.len() == 2 }).await;
    let pending = commitments(&p_grpc, "provider", &p_chan).await;
    assert_eq!(pending, vec![delivered, delivered + 1], "sent in sequence, neither delivered");
    assert_eq!(net.provider_consumer()["valset_update_id"].as_u64(), Some(sent_before + 2));
    assert_eq!(next_sequence_recv(&c_grpc, "consumer", &c_chan).await, delivered, "nothing arrives while the relayer is down");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(next_sequence_recv(&c_grpc, "consumer", &c_chan).await, delivered);

    let cfg = relayer["config"].as_str().unwrap();
    let mut procs = Procs::default();
    procs.spawn(Command::new(AEGISD).args(["relayer", "start", "--config", cfg]), &net.dir.join("relayer-consumer1-restarted.log"));
    wait_for("both packets received and acknowledged", Duration::from_secs(90), || async {
        next_sequence_recv(&c_grpc, "consumer", &c_chan).await == delivered + 2 && commitments(&p_grpc, "provider", &p_chan).await.is_empty()
    })
    .await;
    for seq in [delivered, delivered + 1] {
        assert_eq!(txs_with(&c_rpc, "recv_packet", seq), 1, "packet {seq} received by exactly one transaction");
        assert_eq!(txs_with(&c_rpc, "write_acknowledgement", seq), 1, "packet {seq} acknowledged once");
    }
    let status = net.consumer_status();
    assert_eq!(status["last_valset_update_id"].as_str(), Some((sent_before + 2).to_string().as_str()));
    let (a0, _) = net.consumer_key(0);
    let (a1, _) = net.consumer_key(1);
    let want: BTreeMap<String, u64> = [(a0, power(net.tokens("val0"), 3 * WAD / 10)), (a1, power(net.tokens("val1"), WAD / 4))].into();
    wait_for("the consumer's CometBFT set after both changes", Duration::from_secs(30), || async { cometbft_validators(&c_rpc) == want }).await;
}
