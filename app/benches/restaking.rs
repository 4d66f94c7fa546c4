//! Restaking costs on real RocksDB state, in-process:
//!
//! - epoch end (ranking operators into the validator set) with 1,000
//!   operators, first with 1,000 stakers, then with 100,000: the cost must
//!   not grow with stakers;
//! - a slash of an operator with 10 delegators vs one with 100,000
//!   delegators and 1,000 escrowed withdrawals: within 2x of each other;
//! - deposit+delegate and deposit transaction throughput through
//!   FinalizeBlock + Commit, as in the transfers benchmark.
//!
//! `cargo bench -p aegis-app --bench restaking` (pin with `taskset -c 0`).
//! The large state is built with the modules' own code paths (register,
//! mint, deposit, delegate, queue) straight on a state delta, then
//! committed, so setup does not pay for 100,000 signatures.

use std::time::Instant;

use aegis_app::bank::BankWrite;
use aegis_app::delegation::genesis::{DelegationGenesis, GenesisOperator};
use aegis_app::delegation::msgs::{delegate, RegisterOperator};
use aegis_app::delegation::{DelegationParams, DelegationRead};
use aegis_app::math::WAD;
use aegis_app::restaking::{RestakingRead, RestakingWrite};
use aegis_app::signer::{pack, SignOptions};
use aegis_app::testkit::{genesis_with, test_signer, TestChain, CHAIN_ID};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::restaking::v1 as rpb;
use cnidarium::{StateDelta, Storage};

const OPERATORS: usize = 1_000;

fn addr(kind: &str, i: usize) -> Address {
    Address::module(&format!("bench/{kind}/{i}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Add stakers `range`, each minting and depositing 1,000,000 uaegis and
/// delegating to `op_of(i)`; committed in chunks to bound memory.
async fn add_stakers(storage: &Storage, range: std::ops::Range<usize>, op_of: impl Fn(usize) -> usize) {
    let ids: Vec<usize> = range.collect();
    for chunk in ids.chunks(10_000) {
        let mut delta = StateDelta::new(storage.latest_snapshot());
        for &i in chunk {
            let s = addr("staker", i);
            delta.mint(&s, &Coin::new(NATIVE_DENOM, 1_000_000)).await.unwrap();
            delegate(&mut delta, &s, &addr("operator", op_of(i))).await.unwrap();
            delta.deposit_tokens(&s, &Coin::new(NATIVE_DENOM, 1_000_000)).await.unwrap();
        }
        storage.commit(delta).await.unwrap();
    }
}

async fn time_epoch(storage: &Storage) -> (f64, usize) {
    let mut times = Vec::new();
    let mut validators = 0;
    for _ in 0..9 {
        let mut delta = StateDelta::new(storage.latest_snapshot());
        let t = Instant::now();
        let updates = aegis_app::delegation::hooks::end_block(&mut delta, 100).await.unwrap();
        times.push(t.elapsed().as_secs_f64());
        validators = updates.len();
    }
    (median(times), validators)
}

/// Median time of one state read (an operator record), for comparing
/// states of different sizes: every read walks the Jellyfish Merkle tree,
/// whose depth grows with log16 of the number of keys.
async fn time_read(storage: &Storage) -> f64 {
    let snap = storage.latest_snapshot();
    let mut times = Vec::new();
    for round in 0..5 {
        let t = Instant::now();
        for i in 0..OPERATORS {
            snap.operator(&addr("operator", (i * 7 + round) % OPERATORS)).await.unwrap();
        }
        times.push(t.elapsed().as_secs_f64() / OPERATORS as f64);
    }
    median(times)
}

async fn time_slash(storage: &Storage, op: &Address) -> f64 {
    let mut times = Vec::new();
    for _ in 0..15 {
        let mut delta = StateDelta::new(storage.latest_snapshot());
        let t = Instant::now();
        delta.slash_magnitude(op, NATIVE_DENOM, WAD / 2, None).await.unwrap();
        times.push(t.elapsed().as_secs_f64());
    }
    median(times)
}

async fn epoch_and_slash() {
    let dir = tempfile::tempdir().unwrap();
    let storage = aegis_app::store::open(dir.path().join("db")).await.unwrap();
    let mut app = aegis_app::App::new(storage.clone());
    app.init_chain(CHAIN_ID, b"{}", (0, 0)).await.unwrap();

    let t = Instant::now();
    let mut delta = StateDelta::new(storage.latest_snapshot());
    for i in 0..OPERATORS {
        let op = addr("operator", i);
        let key = ed25519_consensus::SigningKey::from(sha(i)).verification_key().to_bytes().to_vec();
        let msg = dpb::MsgRegisterOperator { operator: op.to_string(), commission_rate_bps: 500, max_commission_rate_bps: 1000, consensus_pubkey: key, ..Default::default() };
        RegisterOperator::check_stateless(&msg).unwrap().check_and_execute(&mut delta).await.unwrap();
        delta.mint(&op, &Coin::new(NATIVE_DENOM, 1_000_000_000 + i as u128 * 1_000_000)).await.unwrap();
        delta.deposit_tokens(&op, &Coin::new(NATIVE_DENOM, 1_000_000_000 + i as u128 * 1_000_000)).await.unwrap();
    }
    storage.commit(delta).await.unwrap();
    // Operator 1 gets 10 delegators; 990 more spread over operators 2..
    add_stakers(&storage, 0..1_000, |i| if i < 10 { 1 } else { 2 + i % (OPERATORS - 2) }).await;
    println!("setup: {OPERATORS} operators, 1,000 stakers in {:.1} s", t.elapsed().as_secs_f64());
    let (small, n) = time_epoch(&storage).await;
    let read_small = time_read(&storage).await;
    println!("epoch end, {OPERATORS} operators, 1,000 stakers: {:.2} ms ({n} validator updates); one state read {:.1} us", small * 1e3, read_small * 1e6);

    let t = Instant::now();
    // Operator 0 gets 100,000 delegators.
    add_stakers(&storage, 1_000..101_000, |_| 0).await;
    // ... and 1,000 of them queue half their shares (escrowed, slashable).
    let mut delta = StateDelta::new(storage.latest_snapshot());
    for i in 1_000..2_000 {
        let s = addr("staker", i);
        let shares = delta.staker_deposit(&s, NATIVE_DENOM).await.unwrap().deposit_shares;
        delta.queue_withdrawal(&s, &[(NATIVE_DENOM.to_string(), shares / 2)]).await.unwrap();
    }
    storage.commit(delta).await.unwrap();
    println!("setup: +100,000 stakers (1,000 withdrawals queued) in {:.1} s", t.elapsed().as_secs_f64());
    let snap = storage.latest_snapshot();
    assert_eq!(snap.operator(&addr("operator", 0)).await.unwrap().unwrap().delegator_count, 100_001);
    assert_eq!(snap.operator(&addr("operator", 1)).await.unwrap().unwrap().delegator_count, 11);
    let (large, n) = time_epoch(&storage).await;
    let read_large = time_read(&storage).await;
    println!(
        "epoch end, {OPERATORS} operators, 101,000 stakers: {:.2} ms ({n} validator updates); ratio {:.2}; one state read {:.1} us (ratio {:.2}); epoch end in reads: {:.0} vs {:.0}",
        large * 1e3,
        large / small,
        read_large * 1e6,
        read_large / read_small,
        small / read_small,
        large / read_large
    );

    let s10 = time_slash(&storage, &addr("operator", 1)).await;
    let s100k = time_slash(&storage, &addr("operator", 0)).await;
    println!(
        "slash: operator with 10 delegators {:.1} us, with 100,000 delegators + 1,000 escrowed withdrawals {:.1} us; ratio {:.2}",
        s10 * 1e6,
        s100k * 1e6,
        s100k / s10
    );
    let _ = snap.validator_set().await;
    let _ = snap.pool_tokens(NATIVE_DENOM).await;
}

fn sha(i: usize) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("bench-key-{i}").as_bytes()).into()
}

/// Signed deposit(+delegate) transactions from `n` distinct accounts.
async fn throughput(n: usize) {
    let signers: Vec<_> = (0..n).map(|i| test_signer(&format!("rbench{i}"))).collect();
    let mut genesis = genesis_with(&signers.iter().map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, 1_000_000_000)])).collect::<Vec<_>>());
    let ops: Vec<_> = (0..10).map(|i| test_signer(&format!("rbench-op{i}"))).collect();
    genesis.delegation = DelegationGenesis {
        params: DelegationParams { blocks_per_epoch: 1_000_000, ..Default::default() },
        operators: ops.iter().map(|o| GenesisOperator { address: o.address.to_string(), ..Default::default() }).collect(),
        delegations: vec![],
    };
    let mut chain = TestChain::new(&genesis).await;
    for (b, label) in ["deposit+delegate", "deposit"].iter().enumerate() {
        let txs: Vec<Vec<u8>> = signers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let dep = pack(
                    "/aegis.restaking.v1.MsgDeposit",
                    &rpb::MsgDeposit { staker: s.address.to_string(), amount: Some(Coin::new(NATIVE_DENOM, 1_000 + b as u128).to_proto()) },
                );
                let mut msgs = vec![dep];
                if b == 0 {
                    msgs.push(pack("/aegis.delegation.v1.MsgDelegate", &dpb::MsgDelegate { staker: s.address.to_string(), operator: ops[i % 10].address.to_string() }));
                }
                let opts = SignOptions { gas_limit: 1_000_000, ..SignOptions::new(CHAIN_ID, i as u64, b as u64) };
                s.sign(msgs, &opts).unwrap()
            })
            .collect();
        let t0 = Instant::now();
        let out = chain.finalize(txs).await;
        let t1 = Instant::now();
        chain.app_mut().commit().await.unwrap();
        let t2 = Instant::now();
        let failed: Vec<_> = out.tx_results.iter().filter_map(|r| r.result.clone().err()).take(1).collect();
        assert!(failed.is_empty(), "{failed:?}");
        let (exec, commit) = ((t1 - t0).as_secs_f64(), (t2 - t1).as_secs_f64());
        println!(
            "{n} {label} txs/block: {:.0} tx/s; FinalizeBlock {:.1} ms, Commit {:.1} ms",
            n as f64 / (exec + commit),
            exec * 1e3,
            commit * 1e3
        );
    }
    chain.check_invariants().await;
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for n in [1_000, 5_000] {
        rt.block_on(throughput(n));
    }
    rt.block_on(epoch_and_slash());
}
