//! IBC costs on real RocksDB state, in-process, through the node's own
//! FinalizeBlock + Commit path:
//!
//! - client updates (ibc-rs's 07-tendermint client) of a counterparty with
//!   100 validators of equal power: adjacent (trusted height h, header
//!   h+1) and skipping (trusted h, header h+100, the validator set
//!   unchanged, so the light client checks that signers holding 1/3 of the
//!   trusted set's power signed, then 2/3 of the new set's); one
//!   MsgUpdateClient per block on the host. Then the adjacent update again
//!   with 10,000 more consensus states stored under the client, to show
//!   that an update's cost does not grow with the states a client keeps
//!   (ibc-rs asks the host for the heights to prune and for the previous
//!   state's timestamp; answered by scanning the whole index, each stored
//!   state cost every update 14.5 us and 575 gas). The extra states stand
//!   in for a client updated at every block for 14 hours: they are written
//!   with the client's own store path, at heights above the latest, where
//!   no check reads them.
//! - packet-commitment proofs verified per second: what the client does
//!   for a MsgRecvPacket (ibc-client-tendermint's `verify_membership`:
//!   decode the MerkleProof, then two ICS23 JMT existence proofs, key ->
//!   `ibc` substore root -> app hash, with `aegis_app::ibc::proof_specs()`),
//!   on 1,000 proofs read from committed state, in a tight loop.
//! - relayed receives per second: N ICS-20 transfers sent on A in one block
//!   (one transaction), relayed to B as the relayer's batch, a client
//!   update and N MsgRecvPacket, for N = 100 and 1,000 (split into
//!   transactions of at most 1 MiB, Aegis's limit, all in one block);
//!   five rounds each.
//!
//! `cargo bench -p aegis-app --bench ibc` (pin with `taskset -c 0`).
//! Headers, proofs and signatures are made before timing starts (the
//! counterparty's and the relayer's work); each timed figure is a block's
//! FinalizeBlock + Commit, the invariants checked after it untimed.

use std::time::{Duration, Instant};

use aegis_app::app::BlockOutput;
use aegis_app::signer::{pack, SignOptions, Signer};
use aegis_app::testkit::ibc::{create_client_msg, created_client, ok, prove, sent_packets, update_client_msg, written_acks, Relayer, Side};
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use ibc_proto::cosmos::base::v1beta1::Coin as IbcCoin;
use ibc_proto::ibc::applications::transfer::v1::MsgTransfer;
use ibc_proto::ibc::core::client::v1::Height as RawHeight;

/// Default restaking withdrawal delay: the unbonding period clients use.
const UNBONDING: Duration = Duration::from_secs(7 * 24 * 3600);
const FUNDS: u128 = 1_000_000_000_000_000;
const VALIDATORS: usize = 100;
const ROUNDS: usize = 9;
const SKIP: u64 = 100;
const SKIP_ROUNDS: usize = 5;
const EXTRA_CONSENSUS_STATES: u64 = 10_000;
const RELAY_ROUNDS: usize = 5;
/// The default `max_tx_gas`: the largest gas limit a transaction may ask.
const MAX_TX_GAS: u64 = 100_000_000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn range(v: &[f64]) -> (f64, f64) {
    (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(0.0, f64::max))
}

/// "median [min - max]" of seconds, in milliseconds.
fn ms(v: &[f64]) -> String {
    let (lo, hi) = range(v);
    format!("{:.2} ms [{:.2} - {:.2}]", median(v.to_vec()) * 1e3, lo * 1e3, hi * 1e3)
}

/// One block holding `txs` on `chain`: its FinalizeBlock + Commit time in
/// seconds, and its output. The invariants are checked after, untimed.
async fn timed_block(chain: &mut TestChain, txs: Vec<Vec<u8>>) -> (f64, BlockOutput) {
    let t = Instant::now();
    let out = chain.finalize(txs).await;
    chain.app_mut().commit().await.unwrap();
    let elapsed = t.elapsed().as_secs_f64();
    chain.check_invariants().await;
    (elapsed, out)
}

fn only_tx_ok(out: &BlockOutput, what: &str) -> u64 {
    for r in &out.tx_results {
        ok(r, what);
    }
    out.tx_results.iter().map(|r| r.gas_used).sum()
}

// ---------------------------------------------------------------------------
// Client updates.

async fn client_updates() {
    let relayer = test_signer("relayer");
    let funded = genesis_with(&[(relayer.address, vec![Coin::new(NATIVE_DENOM, FUNDS)])]);
    let mut host = TestChain::with_chain_id(&funded, "aegis-host").await;
    let mut cp = TestChain::with_validators(&genesis_with(&[]), "aegis-cp", VALIDATORS).await;
    host.block(vec![]).await;
    cp.block(vec![]).await;
    host.time = host.time.max(cp.time);
    let out = host.exec(&relayer, vec![create_client_msg(&cp, UNBONDING, &relayer)]).await;
    ok(&out, "create client");
    let client = created_client(&out);
    let mut trusted = cp.height;

    let mut empty = vec![];
    for _ in 0..ROUNDS {
        empty.push(timed_block(&mut host, vec![]).await.0);
    }

    // One update to the counterparty's newest header, trusting `trusted`.
    async fn update(host: &mut TestChain, cp: &TestChain, relayer: &Signer, client: &str, trusted: u64) -> (f64, u64, usize) {
        host.time = host.time.max(cp.time);
        // The largest gas limit allowed: the figures report what each used.
        let tx = host.sign_with_gas(relayer, vec![update_client_msg(cp, client, trusted, cp.height, relayer)], MAX_TX_GAS).await;
        let size = tx.len();
        let (t, out) = timed_block(host, vec![tx]).await;
        (t, only_tx_ok(&out, "update client"), size)
    }

    let (mut adjacent, mut adjacent_gas, mut tx_size) = (vec![], 0, 0);
    for _ in 0..ROUNDS {
        cp.block(vec![]).await;
        let (t, gas, size) = update(&mut host, &cp, &relayer, &client, trusted).await;
        tx_size = size;
        adjacent.push(t);
        adjacent_gas = gas;
        trusted = cp.height;
    }
    let (mut skipping, mut skipping_gas) = (vec![], 0);
    for _ in 0..SKIP_ROUNDS {
        for _ in 0..SKIP {
            cp.block(vec![]).await;
        }
        let (t, gas, _) = update(&mut host, &cp, &relayer, &client, trusted).await;
        skipping.push(t);
        skipping_gas = gas;
        trusted = cp.height;
    }
    let stored = stored_consensus_states(&host, &client).await;

    // The same adjacent update with 10,000 more consensus states.
    add_consensus_states(&mut host, &client, trusted, EXTRA_CONSENSUS_STATES).await;
    let (mut crowded, mut crowded_gas) = (vec![], 0);
    for _ in 0..ROUNDS {
        cp.block(vec![]).await;
        let (t, gas, _) = update(&mut host, &cp, &relayer, &client, trusted).await;
        crowded.push(t);
        crowded_gas = gas;
        trusted = cp.height;
    }
    let crowded_stored = stored_consensus_states(&host, &client).await;

    let base = median(empty.clone());
    let per = |v: &[f64]| median(v.to_vec());
    println!("client updates, counterparty with {VALIDATORS} validators (one MsgUpdateClient per block; FinalizeBlock + Commit):");
    println!("  empty block: {}; an update's tx: {tx_size} bytes; one ed25519 verification: {:.1} us", ms(&empty), ed25519_verification() * 1e6);
    for (what, v, gas, n) in [
        ("adjacent (h -> h+1)", &adjacent, adjacent_gas, stored),
        ("skipping (h -> h+100, same validators)", &skipping, skipping_gas, stored),
        ("adjacent, 10,000 more consensus states stored", &crowded, crowded_gas, crowded_stored),
    ] {
        println!(
            "  {what}: block {}; {:.0} updates/s; the update alone {:.2} ms (block minus an empty one); gas {gas}; {n} consensus states stored",
            ms(v),
            1.0 / per(v),
            (per(v) - base) * 1e3
        );
    }
    let extra = (crowded_stored - stored) as f64;
    println!(
        "  each stored consensus state adds {:.1} us and {:.0} gas to every update",
        (per(&crowded) - per(&adjacent)) / extra * 1e6,
        (crowded_gas as f64 - adjacent_gas as f64) / extra
    );
}

/// Seconds per ed25519 verification of a vote-sized message (what the
/// light client does for each signature it counts).
fn ed25519_verification() -> f64 {
    let key = aegis_app::testkit::light::validator_key("bench");
    let vk = key.verification_key();
    let msg = [7u8; 110];
    let sig = key.sign(&msg);
    let mut times = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..1_000 {
            vk.verify(&sig, &msg).unwrap();
        }
        times.push(t.elapsed().as_secs_f64() / 1_000.0);
    }
    median(times)
}

async fn stored_consensus_states(chain: &TestChain, client: &str) -> usize {
    let snap = chain.storage().latest_snapshot();
    aegis_app::ibc::state::scan_raw(&snap, &format!("ibc/clients/{client}/consensusStates/")).await.unwrap().len()
}

/// Store `n` copies of the consensus state at `trusted` under `client`, at
/// heights above any the client will reach, through the client's own
/// store path (ibc-rs's `store_consensus_state` on Aegis's context), and
/// commit them as a version of their own.
async fn add_consensus_states(chain: &mut TestChain, client: &str, trusted: u64, n: u64) {
    use aegis_app::ibc::context::IbcContext;
    use ibc_core::client::context::{ClientExecutionContext, ClientValidationContext};
    use ibc_core::host::types::path::ClientConsensusStatePath;
    let client: ibc_core::host::types::identifiers::ClientId = client.parse().unwrap();
    let mut delta = cnidarium::StateDelta::new(chain.storage().latest_snapshot());
    {
        let block = aegis_app::store::BlockContext { chain_id: chain.chain_id.clone(), height: chain.height + 1, time_seconds: chain.time, time_nanos: 0 };
        let mut ctx = IbcContext::new(&mut delta, Default::default(), block, UNBONDING).unwrap();
        let cs = ctx.consensus_state(&ClientConsensusStatePath::new(client.clone(), 0, trusted)).unwrap();
        for i in 0..n {
            ctx.store_consensus_state(ClientConsensusStatePath::new(client.clone(), 0, 1_000_000_000 + i), cs.clone()).unwrap();
        }
    }
    chain.storage().commit(delta).await.unwrap();
    chain.height += 1;
}

// ---------------------------------------------------------------------------
// Relayed receives, and the proofs they carry.

fn transfer(from: &Signer, to: &Address, amount: u128) -> cosmrs::Any {
    pack(
        "/ibc.applications.transfer.v1.MsgTransfer",
        &MsgTransfer {
            source_port: "transfer".into(),
            source_channel: "channel-0".into(),
            token: Some(IbcCoin { denom: NATIVE_DENOM.into(), amount: amount.to_string() }),
            sender: from.address.to_string(),
            receiver: to.to_string(),
            timeout_height: Some(RawHeight { revision_number: 0, revision_height: 1_000_000 }),
            timeout_timestamp: 0,
            memo: String::new(),
        },
    )
}

/// `msgs` signed by `from` as consecutive transactions of at most
/// `max_bytes` each (all in one block).
async fn sign_in_txs(chain: &TestChain, from: &Signer, msgs: Vec<cosmrs::Any>, max_bytes: usize) -> Vec<Vec<u8>> {
    let (number, sequence) = chain.account(&from.address).await.unwrap();
    let mut chunks: Vec<Vec<cosmrs::Any>> = vec![vec![]];
    let mut size = 0;
    for m in msgs {
        // The Any's own encoding, plus room for the signature and fee.
        let len = m.type_url.len() + m.value.len() + 16;
        if size + len > max_bytes - 4_096 && !chunks.last().unwrap().is_empty() {
            chunks.push(vec![]);
            size = 0;
        }
        size += len;
        chunks.last_mut().unwrap().push(m);
    }
    let txs: Vec<Vec<u8>> = chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let opts = SignOptions { fee: 0, gas_limit: MAX_TX_GAS, ..SignOptions::new(&chain.chain_id, number, sequence + i as u64) };
            from.sign(c, &opts).unwrap()
        })
        .collect();
    assert!(txs.iter().all(|t| t.len() <= max_bytes));
    txs
}

struct Relayed {
    a: TestChain,
    packets: Vec<ibc_proto::ibc::core::channel::v1::Packet>,
}

async fn relayed_receives(n: usize) -> Relayed {
    let (alice, relayer_a, relayer_b) = (test_signer("alice"), test_signer("relayer-a"), test_signer("relayer-b"));
    let funded = |signers: &[&Signer]| genesis_with(&signers.iter().map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, FUNDS)])).collect::<Vec<_>>());
    let mut a = TestChain::with_chain_id(&funded(&[&alice, &relayer_a]), "aegis-a").await;
    let mut b = TestChain::with_chain_id(&funded(&[&relayer_b]), "aegis-b").await;
    a.block(vec![]).await;
    b.block(vec![]).await;
    let mut r = Relayer::new(test_signer("relayer-a"), test_signer("relayer-b"), UNBONDING);
    r.setup_transfer(&mut a, &mut b).await;

    // Each round: N transfers to N distinct receivers (new ones each
    // round), then the relayer's batch, its proofs read and its txs signed
    // untimed.
    let (mut sends, mut receives, mut proving) = (vec![], vec![], vec![]);
    let (mut send_gas, mut recv_gas, mut bytes, mut tx_count) = (0, 0, 0, 0);
    let mut packets = vec![];
    for round in 0..RELAY_ROUNDS {
        let msgs = (0..n).map(|i| transfer(&alice, &Address::module(&format!("ibcbench/receiver/{round}/{i}")), 1_000 + i as u128)).collect();
        let txs = sign_in_txs(&a, &alice, msgs, aegis_app::tx::MAX_TX_BYTES).await;
        let (t, out) = timed_block(&mut a, txs).await;
        sends.push(t);
        send_gas = only_tx_ok(&out, "transfers");
        packets = out.tx_results.iter().flat_map(|r| sent_packets(&r.events)).collect();
        assert_eq!(packets.len(), n);

        let t = Instant::now();
        let msgs = r.recv_batch(&mut a, &mut b, Side::A, &packets).await;
        proving.push(t.elapsed().as_secs_f64());
        bytes = msgs.iter().map(|m| m.value.len()).sum();
        let txs = sign_in_txs(&b, &relayer_b, msgs, aegis_app::tx::MAX_TX_BYTES).await;
        tx_count = txs.len();
        let (t, out) = timed_block(&mut b, txs).await;
        receives.push(t);
        recv_gas = only_tx_ok(&out, "receives");
        let acks: usize = out.tx_results.iter().map(|r| written_acks(&r.events).len()).sum();
        assert_eq!(acks, n, "every packet acknowledged");
    }
    let (send, recv, prove) = (median(sends.clone()), median(receives.clone()), median(proving.clone()));
    println!(
        "relayed receives, N = {n} ({RELAY_ROUNDS} rounds): sent on A in one block {} ({:.0} transfers/s, {:.0} gas each); B's block of 1 update + {n} receives in {tx_count} tx(s) of {:.0} KiB: {}, {:.0} receives/s, {:.0} us and {:.0} gas per receive; the relayer's {n} proofs read in {:.1} ms",
        ms(&sends),
        n as f64 / send,
        send_gas as f64 / n as f64,
        bytes as f64 / 1024.0,
        ms(&receives),
        n as f64 / recv,
        recv * 1e6 / n as f64,
        recv_gas as f64 / n as f64,
        prove * 1e3
    );
    Relayed { a, packets }
}

/// ICS23 verification of packet-commitment proofs, as the client does it.
async fn proof_verification(relayed: &Relayed) {
    use ibc_core::commitment_types::commitment::{CommitmentPrefix, CommitmentProofBytes, CommitmentRoot};
    use ibc_core::commitment_types::proto::ics23::HostFunctionsManager;
    use ibc_core::host::types::path::PathBytes;
    let a = &relayed.a;
    let version = a.height;
    let root = CommitmentRoot::from_bytes(&a.storage().latest_snapshot().root_hash().await.unwrap().0);
    let prefix = CommitmentPrefix::from_bytes(b"ibc");
    let specs = aegis_app::ibc::proof_specs();
    let mut proofs = vec![];
    for p in &relayed.packets {
        let path = format!("commitments/ports/{}/channels/{}/sequences/{}", p.source_port, p.source_channel, p.sequence);
        let (value, proof) = prove(a, &path, version).await;
        proofs.push((CommitmentProofBytes::try_from(proof).unwrap(), PathBytes::from_bytes(path.as_bytes()), value.expect("a commitment")));
    }
    let size = proofs.iter().map(|(p, _, _)| <Vec<u8>>::from(p.clone()).len()).sum::<usize>() / proofs.len();
    let verify = |(proof, path, value): &(CommitmentProofBytes, PathBytes, Vec<u8>)| {
        ibc_client_tendermint::client_state::verify_membership::<HostFunctionsManager>(&specs, &prefix, proof, &root, path.clone(), value.clone())
    };
    // Every proof holds; one with a flipped byte does not.
    assert!(proofs.iter().all(|p| verify(p).is_ok()));
    let mut bad = <Vec<u8>>::from(proofs[0].0.clone());
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    assert!(verify(&(CommitmentProofBytes::try_from(bad).unwrap(), proofs[0].1.clone(), proofs[0].2.clone())).is_err());

    let mut times = vec![];
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..5 {
            for p in &proofs {
                verify(p).unwrap();
            }
        }
        times.push(t.elapsed().as_secs_f64() / (5 * proofs.len()) as f64);
    }
    let (m, (lo, hi)) = (median(times.clone()), range(&times));
    println!(
        "packet-commitment proofs (two JMT existence proofs, {size} bytes on average, {} in the loop): {:.1} us per proof [{:.1} - {:.1}], {:.0} proofs/s",
        proofs.len(),
        m * 1e6,
        lo * 1e6,
        hi * 1e6,
        1.0 / m
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(client_updates());
    rt.block_on(async {
        relayed_receives(100).await;
        let relayed = relayed_receives(1_000).await;
        proof_verification(&relayed).await;
    });
}
