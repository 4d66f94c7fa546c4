//! IBC end to end: `scripts/devnet.sh up --chains 2` brings up two
//! independent Aegis chains (real CometBFT, one validator each here) and
//! `aegisd relayer`, which creates the clients, connection and transfer
//! channel. Then: a transfer there and back; 100 transfers with the relayer
//! SIGKILLed mid-way and restarted (each arrives once, every ack returns);
//! and a transfer that times out while the relayer is down, refunded after
//! it restarts (a timeout proven by non-receipt).
//! Ports 28400-28800.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aegis_app::auth::params::MinGasPrice;
use aegis_app::ibc::transfer::{denom_hash, escrow_address};
use aegis_app::signer::Signer;
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_node::client::GrpcClient;
use common::AEGISD;
use ibc_proto::ibc::core::channel::v1 as ch;
use serde_json::Value;

const BASE_PORT: u16 = 28400;

use common::{devnet_script as devnet, ScriptDown as Down};

struct Chain {
    grpc: GrpcClient,
    faucet: Signer,
}

fn account(endpoints: &Value, chain: usize, name: &str) -> Signer {
    let acc = endpoints["chains"][chain]["accounts"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap_or_else(|| panic!("no {name} account"));
    Signer::from_mnemonic(acc["mnemonic"].as_str().unwrap()).unwrap()
}

fn gas_price() -> MinGasPrice {
    MinGasPrice::parse("0.025uaegis").unwrap()
}

/// Send `msgs` from `from`, wait for the block; the fee paid.
async fn send(c: &GrpcClient, from: &Signer, msgs: Vec<cosmrs::Any>) -> u128 {
    let r = c.sign_and_broadcast(from, msgs, None, &gas_price(), "", Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(r.code, 0, "tx failed: {}", r.raw_log);
    gas_price().required_fee(r.gas_wanted as u64)
}

fn transfer(from: &Signer, channel: &str, to: &Address, denom: &str, amount: u128, timeout_height: u64) -> cosmrs::Any {
    aegis_app::testkit::ibc::transfer_msg(&from.address, channel, &to.to_string(), denom, amount, timeout_height)
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

async fn commitments(c: &GrpcClient, channel: &str) -> Vec<u64> {
    let r: ch::QueryPacketCommitmentsResponse = c
        .query("/ibc.core.channel.v1.Query/PacketCommitments", &ch::QueryPacketCommitmentsRequest { port_id: "transfer".into(), channel_id: channel.into(), pagination: None })
        .await
        .unwrap();
    r.commitments.iter().map(|p| p.sequence).collect()
}

fn start_relayer(dir: &Path, cfg: &str) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("relayer-1.log")).unwrap();
    let child = Command::new(AEGISD).args(["relayer", "start", "--config", cfg]).stdout(Stdio::null()).stderr(log).spawn().unwrap();
    // `devnet.sh down` stops it too.
    let mut pids = std::fs::OpenOptions::new().append(true).open(dir.join("pids")).unwrap();
    std::io::Write::write_all(&mut pids, format!("{} relayer-1-restarted\n", child.id()).as_bytes()).unwrap();
    child
}

fn kill_relayer_from_pids(dir: &Path) {
    let pids = std::fs::read_to_string(dir.join("pids")).unwrap();
    for line in pids.lines() {
        let mut parts = line.split_whitespace();
        let (Some(pid), Some(name)) = (parts.next(), parts.next()) else { continue };
        if name.starts_with("relayer-1") {
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_chains_transfer_there_and_back_survive_a_killed_relayer_and_refund_timeouts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("devnet");
    let _down = Down(dir.clone());
    let (ok, out) = devnet(&["up", "--chains", "2", "--validators", "1", "--base-port", &BASE_PORT.to_string()], &dir);
    assert!(ok, "devnet.sh up --chains 2 failed:\n{out}");
    let endpoints: Value = serde_json::from_slice(&std::fs::read(dir.join("endpoints.json")).unwrap()).unwrap();
    assert_eq!(endpoints["chains"].as_array().unwrap().len(), 2);
    let relayer = &endpoints["relayers"][0];
    let chan_a = relayer["path"][0]["channel_id"].as_str().unwrap().to_string();
    let chan_b = relayer["path"][1]["channel_id"].as_str().unwrap().to_string();
    assert_eq!((chan_a.as_str(), chan_b.as_str()), ("channel-0", "channel-0"));
    let cfg = relayer["config"].as_str().unwrap().to_string();

    let a = Chain { grpc: GrpcClient::connect(endpoints["chains"][0]["nodes"][0]["grpc"].as_str().unwrap()).await.unwrap(), faucet: account(&endpoints, 0, "faucet") };
    let b = Chain { grpc: GrpcClient::connect(endpoints["chains"][1]["nodes"][0]["grpc"].as_str().unwrap()).await.unwrap(), faucet: account(&endpoints, 1, "faucet") };
    let alice = Signer::from_secret(&[7u8; 32]).unwrap();
    let bob = Signer::from_secret(&[8u8; 32]).unwrap();
    send(&a.grpc, &a.faucet, vec![a.faucet.msg_send(&alice.address, &[Coin::new(NATIVE_DENOM, 10_000_000_000)])]).await;
    send(&b.grpc, &b.faucet, vec![b.faucet.msg_send(&bob.address, &[Coin::new(NATIVE_DENOM, 10_000_000)])]).await;
    let voucher = format!("ibc/{}", denom_hash(&format!("transfer/{chan_b}/uaegis")));
    let escrow = escrow_address("transfer", &chan_a);
    let alice_start = a.grpc.balance(&alice.address, NATIVE_DENOM).await.unwrap();

    // 1. There and back.
    let fee1 = send(&a.grpc, &alice, vec![transfer(&alice, &chan_a, &bob.address, NATIVE_DENOM, 1_000_000, 1_000_000)]).await;
    wait_for("the voucher on B", Duration::from_secs(60), || async { b.grpc.balance(&bob.address, &voucher).await.unwrap() == 1_000_000 }).await;
    assert_eq!(a.grpc.balance(&escrow, NATIVE_DENOM).await.unwrap(), 1_000_000, "escrowed on A = vouchers on B");
    let trace: ibc_proto::ibc::applications::transfer::v1::QueryDenomTraceResponse = b
        .grpc
        .query("/ibc.applications.transfer.v1.Query/DenomTrace", &ibc_proto::ibc::applications::transfer::v1::QueryDenomTraceRequest { hash: voucher[4..].into() })
        .await
        .unwrap();
    let trace = trace.denom_trace.unwrap();
    assert_eq!((trace.path.as_str(), trace.base_denom.as_str()), ("transfer/channel-0", "uaegis"));
    wait_for("the ack back on A", Duration::from_secs(60), || async { commitments(&a.grpc, &chan_a).await.is_empty() }).await;

    send(&b.grpc, &bob, vec![transfer(&bob, &chan_b, &alice.address, &voucher, 1_000_000, 1_000_000)]).await;
    assert_eq!(b.grpc.balance(&bob.address, &voucher).await.unwrap(), 0, "burned on B");
    wait_for("alice's tokens back on A", Duration::from_secs(60), || async {
        a.grpc.balance(&alice.address, NATIVE_DENOM).await.unwrap() == alice_start - fee1
    })
    .await;
    assert_eq!(a.grpc.balance(&escrow, NATIVE_DENOM).await.unwrap(), 0);
    wait_for("the ack back on B", Duration::from_secs(60), || async { commitments(&b.grpc, &chan_b).await.is_empty() }).await;

    // 2. 100 transfers; the relayer is SIGKILLed mid-way and restarted.
    let alice_before = a.grpc.balance(&alice.address, NATIVE_DENOM).await.unwrap();
    let mut fees = 0;
    for _ in 0..10 {
        let msgs = (0..10).map(|_| transfer(&alice, &chan_a, &bob.address, NATIVE_DENOM, 1_000, 1_000_000)).collect();
        fees += send(&a.grpc, &alice, msgs).await;
    }
    wait_for("some of the 100 packets delivered", Duration::from_secs(60), || async { b.grpc.balance(&bob.address, &voucher).await.unwrap() > 0 }).await;
    kill_relayer_from_pids(&dir);
    let seen_at_kill = b.grpc.balance(&bob.address, &voucher).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut relayer_proc = start_relayer(&dir, &cfg);
    wait_for("all 100 packets delivered", Duration::from_secs(120), || async { b.grpc.balance(&bob.address, &voucher).await.unwrap() >= 100_000 }).await;
    wait_for("all 100 acks back on A", Duration::from_secs(120), || async { commitments(&a.grpc, &chan_a).await.is_empty() }).await;
    assert_eq!(b.grpc.balance(&bob.address, &voucher).await.unwrap(), 100_000, "each packet exactly once (at the kill: {seen_at_kill})");
    assert_eq!(a.grpc.balance(&escrow, NATIVE_DENOM).await.unwrap(), 100_000);
    assert_eq!(a.grpc.balance(&alice.address, NATIVE_DENOM).await.unwrap(), alice_before - 100_000 - fees);

    // 3. A transfer times out while the relayer is down, and is refunded.
    relayer_proc.kill().unwrap();
    let _ = relayer_proc.wait();
    let (b_height, _) = b.grpc.latest_block().await.unwrap();
    let alice_before = a.grpc.balance(&alice.address, NATIVE_DENOM).await.unwrap();
    let fee = send(&a.grpc, &alice, vec![transfer(&alice, &chan_a, &bob.address, NATIVE_DENOM, 5_000, b_height + 4)]).await;
    assert_eq!(a.grpc.balance(&escrow, NATIVE_DENOM).await.unwrap(), 105_000);
    wait_for("B past the timeout height", Duration::from_secs(60), || async { b.grpc.latest_block().await.unwrap().0 > b_height + 5 }).await;
    let mut relayer_proc = start_relayer(&dir, &cfg);
    wait_for("the refund on A", Duration::from_secs(120), || async { a.grpc.balance(&alice.address, NATIVE_DENOM).await.unwrap() == alice_before - fee }).await;
    assert_eq!(a.grpc.balance(&escrow, NATIVE_DENOM).await.unwrap(), 100_000);
    assert_eq!(b.grpc.balance(&bob.address, &voucher).await.unwrap(), 100_000, "the timed-out packet never arrived");
    assert!(commitments(&a.grpc, &chan_a).await.is_empty());
    relayer_proc.kill().unwrap();
    let _ = relayer_proc.wait();

    // 4. A proof served at `store/ibc/key` verifies with the ics23 crate
    // against the app hash of the next header, with the proof specs B's
    // client of A carries: existence (A's channel end) and non-existence
    // (a receipt A never wrote).
    let rpc_a = tendermint_rpc::HttpClient::new(endpoints["chains"][0]["nodes"][0]["rpc"].as_str().unwrap()).unwrap();
    let rpc_b = tendermint_rpc::HttpClient::new(endpoints["chains"][1]["nodes"][0]["rpc"].as_str().unwrap()).unwrap();
    let specs = advertised_specs(&rpc_b, relayer["path"][1]["client_id"].as_str().unwrap()).await;
    assert_eq!(specs, vec![cnidarium::ics23_spec(), cnidarium::ics23_spec()]);
    let h = tendermint_rpc::Client::status(&rpc_a).await.unwrap().sync_info.latest_block_height.value() - 1;
    let next = tendermint_rpc::Client::commit(&rpc_a, tendermint::block::Height::try_from(h + 1).unwrap()).await.unwrap();
    let app_hash = next.signed_header.header.app_hash.as_bytes().to_vec();
    let channel_path = format!("channelEnds/ports/transfer/channels/{chan_a}");
    let (value, proofs) = ibc_proof(&rpc_a, &channel_path, h).await;
    assert!(!value.is_empty(), "the channel end exists");
    let subroot = substore_root(&proofs[1]);
    assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(&proofs[0], &specs[0], &subroot, channel_path.as_bytes(), &value));
    assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(&proofs[1], &specs[1], &app_hash, b"ibc", &subroot));
    let mut flipped = value.clone();
    flipped[0] ^= 1;
    assert!(!ics23::verify_membership::<ics23::HostFunctionsManager>(&proofs[0], &specs[0], &subroot, channel_path.as_bytes(), &flipped));
    let missing = format!("receipts/ports/transfer/channels/{chan_a}/sequences/999");
    let (value, proofs) = ibc_proof(&rpc_a, &missing, h).await;
    assert!(value.is_empty());
    let subroot = substore_root(&proofs[1]);
    assert!(ics23::verify_non_membership::<ics23::HostFunctionsManager>(&proofs[0], &specs[0], &subroot, missing.as_bytes()));
    assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(&proofs[1], &specs[1], &app_hash, b"ibc", &subroot));
}

/// The proof specs in the tendermint client state `client_id` on a chain.
async fn advertised_specs(rpc: &tendermint_rpc::HttpClient, client_id: &str) -> Vec<ics23::ProofSpec> {
    use prost::Message;
    let r = tendermint_rpc::Client::abci_query(rpc, Some("store/ibc/key".into()), format!("clients/{client_id}/clientState").into_bytes(), None, false).await.unwrap();
    let any = ibc_proto::google::protobuf::Any::decode(r.value.as_slice()).unwrap();
    ibc_proto::ibc::lightclients::tendermint::v1::ClientState::decode(any.value.as_slice()).unwrap().proof_specs
}

/// Value and the two ICS23 proofs (substore, main store) of an IBC path at `height`.
async fn ibc_proof(rpc: &tendermint_rpc::HttpClient, path: &str, height: u64) -> (Vec<u8>, Vec<ics23::CommitmentProof>) {
    use prost::Message;
    let r = tendermint_rpc::Client::abci_query(rpc, Some("store/ibc/key".into()), path.as_bytes().to_vec(), Some(tendermint::block::Height::try_from(height).unwrap()), true)
        .await
        .unwrap();
    assert_eq!(r.height.value(), height, "the response names the proven height");
    let ops = r.proof.expect("a proof").ops;
    assert_eq!(ops.len(), 2, "substore proof, then main-store proof");
    (r.value, ops.iter().map(|o| ics23::CommitmentProof::decode(o.data.as_slice()).unwrap()).collect())
}

/// The substore root the main-store proof commits to (its value at `ibc`).
fn substore_root(main: &ics23::CommitmentProof) -> Vec<u8> {
    match &main.proof {
        Some(ics23::commitment_proof::Proof::Exist(e)) => e.value.clone(),
        other => panic!("the main-store proof of `ibc` is an existence proof, got {other:?}"),
    }
}
