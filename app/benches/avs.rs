//! AVS slashing and reward costs on real RocksDB state, in-process:
//!
//! - an AVS slash (`slash_allocation`) of an operator with 10 delegators vs
//!   one with 100,000 delegators and 1,000 escrowed withdrawals, both with
//!   half their uaegis allocated to one operator set: within 2x of each
//!   other, with the same number of state reads;
//! - the epoch end's AVS reward rounds (`rewards::hooks::end_epoch`) with
//!   1,000 operators registered and allocated in each of 50 AVSs' operator
//!   sets, one reward submission each: 50,000 (submission x operator)
//!   credits.
//!
//! `cargo bench -p aegis-app --bench avs` (pin with `taskset -c 0`). The
//! state is built with the modules' own code paths (register, mint,
//! deposit, delegate, queue, create sets, allocate, submit) straight on a
//! state delta and committed, so setup pays for no signatures. Every
//! measurement runs on a fresh delta over the committed state, so it reads
//! through the Jellyfish Merkle tree as a block would. Reads are counted
//! with a gas meter whose only price is one unit per read.

use std::time::Instant;

use aegis_app::avs::genesis::AvsGenesis;
use aegis_app::avs::msgs::{CreateOperatorSet, ModifyAllocations, RegisterAvs, RegisterForOperatorSet};
use aegis_app::avs::{AvsParams, AvsRead};
use aegis_app::bank::BankWrite;
use aegis_app::delegation::msgs::{delegate, RegisterOperator};
use aegis_app::delegation::DelegationRead;
use aegis_app::math::WAD;
use aegis_app::restaking::{RestakingRead, RestakingWrite};
use aegis_app::rewards::msgs::SubmitAvsRewards;
use aegis_app::rewards::RewardsRead;
use aegis_app::slashing::SlashingWrite;
use aegis_app::store::{BlockContext, GasCosts, GasMeter, StoreWrite};
use aegis_app::testkit::CHAIN_ID;
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_app::AppGenesis;
use aegis_proto::aegis::avs::v1 as apb;
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::rewards::v1 as wpb;
use cnidarium::{StateDelta, Storage};

/// Epoch length of the default delegation params: height 100 ends one.
const EPOCH_HEIGHT: u64 = 100;

fn addr(kind: &str, i: usize) -> Address {
    Address::module(&format!("avsbench/{kind}/{i}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn range(v: &[f64]) -> (f64, f64) {
    (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(0.0, f64::max))
}

/// A chain whose allocations apply at once (no allocation delay), so the
/// state can be built without waiting out block time.
async fn storage() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().unwrap();
    let storage = aegis_app::store::open(dir.path().join("db")).await.unwrap();
    let mut app = aegis_app::App::new(storage.clone());
    let genesis = AppGenesis { avs: AvsGenesis { params: AvsParams { default_allocation_delay_seconds: 0, ..Default::default() } }, ..Default::default() };
    app.init_chain(CHAIN_ID, &serde_json::to_vec(&genesis).unwrap(), (1_700_000_000, 0)).await.unwrap();
    (dir, storage)
}

fn block_context(height: u64) -> BlockContext {
    BlockContext { chain_id: CHAIN_ID.into(), height, time_seconds: 1_700_000_000 + height as i64 * 5, time_nanos: 0 }
}

/// (point reads, iterated entries, writes and deletes) a closure's state
/// work costs, counted by a gas meter priced at 1 / 2^20 / 2^40 units.
fn counting_meter() -> GasMeter {
    let costs = GasCosts {
        read_flat: 1,
        read_per_byte: 0,
        write_flat: 1 << 40,
        write_per_byte: 0,
        delete: 1 << 40,
        iter_next_flat: 1 << 20,
        tx_size_per_byte: 0,
        sig_verify_secp256k1: 0,
        per_message: 0,
    };
    GasMeter::new(u64::MAX, costs)
}

fn decode_counts(used: u64) -> (u64, u64, u64) {
    (used & ((1 << 20) - 1), (used >> 20) & ((1 << 20) - 1), used >> 40)
}

async fn register_operator(delta: &mut StateDelta<cnidarium::Snapshot>, op: &Address, stake: u128) {
    let msg = dpb::MsgRegisterOperator { operator: op.to_string(), commission_rate_bps: 500, max_commission_rate_bps: 1000, ..Default::default() };
    RegisterOperator::check_stateless(&msg).unwrap().check_and_execute(delta).await.unwrap();
    delta.mint(op, &Coin::new(NATIVE_DENOM, stake)).await.unwrap();
    delta.deposit_tokens(op, &Coin::new(NATIVE_DENOM, stake)).await.unwrap();
}

/// Register AVS `n` (ids follow registration order) owned by `owner`, with
/// operator set 0 accepting uaegis.
async fn avs_with_set(delta: &mut StateDelta<cnidarium::Snapshot>, owner: &Address) -> u64 {
    let reg = apb::MsgRegisterAvs { owner: owner.to_string(), metadata_uri: String::new(), redistribution_recipient: String::new() };
    let id = RegisterAvs::check_stateless(&reg).unwrap().check_and_execute(delta).await.unwrap();
    let set = apb::MsgCreateOperatorSet {
        owner: owner.to_string(),
        avs_id: id,
        operator_set_id: 0,
        strategies: vec![NATIVE_DENOM.into()],
        slasher: owner.to_string(),
        ..Default::default()
    };
    CreateOperatorSet::check_stateless(&set).unwrap().check_and_execute(delta).await.unwrap();
    id
}

async fn register_and_allocate(delta: &mut StateDelta<cnidarium::Snapshot>, op: &Address, avss: &[u64], magnitude: u128) {
    for &avs in avss {
        let m = apb::MsgRegisterForOperatorSet { operator: op.to_string(), avs_id: avs, operator_set_id: 0 };
        RegisterForOperatorSet::check_stateless(&m).unwrap().check_and_execute(delta).await.unwrap();
    }
    for chunk in avss.chunks(aegis_app::avs::msgs::MAX_ALLOCATIONS_PER_MSG) {
        let allocations = chunk
            .iter()
            .map(|&avs| apb::AllocateParams { avs_id: avs, operator_set_id: 0, strategy: NATIVE_DENOM.into(), magnitude: magnitude.to_string() })
            .collect();
        let m = apb::MsgModifyAllocations { operator: op.to_string(), allocations };
        ModifyAllocations::check_stateless(&m).unwrap().check_and_execute(delta).await.unwrap();
    }
}

/// Stakers `range`, each minting and depositing 1,000,000 uaegis delegated
/// to `op`; committed in chunks to bound memory.
async fn add_stakers(storage: &Storage, range: std::ops::Range<usize>, op: &Address) {
    let ids: Vec<usize> = range.collect();
    for chunk in ids.chunks(10_000) {
        let mut delta = StateDelta::new(storage.latest_snapshot());
        for &i in chunk {
            let s = addr("staker", i);
            delta.mint(&s, &Coin::new(NATIVE_DENOM, 1_000_000)).await.unwrap();
            delegate(&mut delta, &s, op).await.unwrap();
            delta.deposit_tokens(&s, &Coin::new(NATIVE_DENOM, 1_000_000)).await.unwrap();
        }
        storage.commit(delta).await.unwrap();
    }
}

/// Median and range of slashing a tenth of `op`'s allocation to AVS 1's
/// set 0, each on a fresh delta; and the state work of one slash.
async fn time_slash(storage: &Storage, op: &Address) -> (f64, (f64, f64), (u64, u64, u64)) {
    let strategies = [NATIVE_DENOM.to_string()];
    let mut times = Vec::new();
    // The first run (cold caches) is not counted.
    for _ in 0..16 {
        let mut delta = StateDelta::new(storage.latest_snapshot());
        delta.put_block_context(block_context(EPOCH_HEIGHT + 1));
        let t = Instant::now();
        let slashed = delta.slash_allocation(op, 1, 0, &strategies, WAD / 10, None).await.unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(slashed[0].magnitude, WAD / 20);
    }
    times.remove(0);
    let mut delta = StateDelta::new(storage.latest_snapshot());
    delta.put_block_context(block_context(EPOCH_HEIGHT + 1));
    let meter = counting_meter();
    delta.put_gas_meter(meter.clone());
    delta.slash_allocation(op, 1, 0, &strategies, WAD / 10, None).await.unwrap();
    (median(times.clone()), range(&times), decode_counts(meter.used()))
}

async fn slash_cost() {
    let (_dir, storage) = storage().await;
    let t = Instant::now();
    let owner = addr("owner", 0);
    let (small, large) = (addr("operator", 0), addr("operator", 1));
    let mut delta = StateDelta::new(storage.latest_snapshot());
    let avs = avs_with_set(&mut delta, &owner).await;
    for op in [&small, &large] {
        register_operator(&mut delta, op, 1_000_000_000).await;
        register_and_allocate(&mut delta, op, &[avs], WAD / 2).await;
    }
    storage.commit(delta).await.unwrap();
    add_stakers(&storage, 0..10, &small).await;
    add_stakers(&storage, 10..100_010, &large).await;
    // 1,000 of the large operator's stakers queue half their shares
    // (escrowed, still slashable).
    let mut delta = StateDelta::new(storage.latest_snapshot());
    for i in 10..1_010 {
        let s = addr("staker", i);
        let shares = delta.staker_deposit(&s, NATIVE_DENOM).await.unwrap().deposit_shares;
        delta.queue_withdrawal(&s, &[(NATIVE_DENOM.to_string(), shares / 2)]).await.unwrap();
    }
    storage.commit(delta).await.unwrap();
    let snap = storage.latest_snapshot();
    assert_eq!(snap.operator(&small).await.unwrap().unwrap().delegator_count, 11);
    assert_eq!(snap.operator(&large).await.unwrap().unwrap().delegator_count, 100_001);
    assert_eq!(snap.allocation(&large, NATIVE_DENOM, avs, 0).await.unwrap().magnitude, WAD / 2);
    println!("setup: 2 operators allocated 0.5 uaegis to AVS {avs}, 100,010 stakers, 1,000 escrowed withdrawals in {:.1} s", t.elapsed().as_secs_f64());

    let (s10, r10, c10) = time_slash(&storage, &small).await;
    let (s100k, r100k, c100k) = time_slash(&storage, &large).await;
    println!(
        "AVS slash, operator with 10 delegators: median {:.1} us [{:.1} - {:.1}]; {} reads, {} iterated, {} writes",
        s10 * 1e6,
        r10.0 * 1e6,
        r10.1 * 1e6,
        c10.0,
        c10.1,
        c10.2
    );
    println!(
        "AVS slash, operator with 100,000 delegators + 1,000 escrowed withdrawals: median {:.1} us [{:.1} - {:.1}]; {} reads, {} iterated, {} writes; ratio {:.2}",
        s100k * 1e6,
        r100k.0 * 1e6,
        r100k.1 * 1e6,
        c100k.0,
        c100k.1,
        c100k.2,
        s100k / s10
    );
}

/// Median time of one state read (an operator record) in this state.
async fn time_read(storage: &Storage, ops: &[Address]) -> f64 {
    let snap = storage.latest_snapshot();
    let mut times = Vec::new();
    for round in 0..5 {
        let t = Instant::now();
        for i in 0..ops.len() {
            snap.operator(&ops[(i * 7 + round) % ops.len()]).await.unwrap();
        }
        times.push(t.elapsed().as_secs_f64() / ops.len() as f64);
    }
    median(times)
}

const REWARD_OPERATORS: usize = 1_000;
const REWARD_AVSS: usize = 50;

async fn epoch_rewards() {
    let (_dir, storage) = storage().await;
    let t = Instant::now();
    let owner = addr("owner", 0);
    let mut delta = StateDelta::new(storage.latest_snapshot());
    let mut avss = Vec::new();
    for _ in 0..REWARD_AVSS {
        avss.push(avs_with_set(&mut delta, &owner).await);
    }
    storage.commit(delta).await.unwrap();
    let ops: Vec<Address> = (0..REWARD_OPERATORS).map(|i| addr("operator", i)).collect();
    for chunk in ops.chunks(100) {
        let mut delta = StateDelta::new(storage.latest_snapshot());
        for (i, op) in chunk.iter().enumerate() {
            register_operator(&mut delta, op, 1_000_000_000 + i as u128 * 1_000_000).await;
            register_and_allocate(&mut delta, op, &avss, WAD / 100).await;
        }
        storage.commit(delta).await.unwrap();
    }
    let mut delta = StateDelta::new(storage.latest_snapshot());
    let per_submission = 1_000_000_000_000u128;
    delta.mint(&owner, &Coin::new(NATIVE_DENOM, per_submission * REWARD_AVSS as u128)).await.unwrap();
    for &avs in &avss {
        let m = wpb::MsgSubmitAvsRewards {
            owner: owner.to_string(),
            avs_id: avs,
            operator_set_id: 0,
            amount: Some(Coin::new(NATIVE_DENOM, per_submission).to_proto()),
            epochs: 10,
            strategies: vec![],
        };
        SubmitAvsRewards::check_stateless(&m).unwrap().check_and_execute(&mut delta).await.unwrap();
    }
    storage.commit(delta).await.unwrap();
    let snap = storage.latest_snapshot();
    assert_eq!(snap.submissions().await.unwrap().len(), REWARD_AVSS);
    assert_eq!(snap.set_members(avss[0], 0).await.unwrap().len(), REWARD_OPERATORS);
    println!(
        "setup: {REWARD_OPERATORS} operators registered and allocated in {REWARD_AVSS} AVSs' sets, {REWARD_AVSS} submissions in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let credits = (REWARD_OPERATORS * REWARD_AVSS) as f64;
    let read = time_read(&storage, &ops).await;
    let (mut times, mut staged) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let mut delta = StateDelta::new(storage.latest_snapshot());
        delta.put_block_context(block_context(EPOCH_HEIGHT));
        let t = Instant::now();
        aegis_app::rewards::hooks::end_epoch(&mut delta, EPOCH_HEIGHT).await.unwrap();
        times.push(t.elapsed().as_secs_f64());
        // What the block's Merkle root then costs: staged, never committed.
        let t = Instant::now();
        let batch = storage.prepare_commit(delta).await.unwrap();
        staged.push(t.elapsed().as_secs_f64());
        drop(batch);
    }
    let mut delta = StateDelta::new(storage.latest_snapshot());
    delta.put_block_context(block_context(EPOCH_HEIGHT));
    let meter = counting_meter();
    delta.put_gas_meter(meter.clone());
    aegis_app::rewards::hooks::end_epoch(&mut delta, EPOCH_HEIGHT).await.unwrap();
    let (reads, iterated, writes) = decode_counts(meter.used());
    // The round really paid: every operator's commission was credited.
    assert!(aegis_app::rewards::RewardsRead::commission(&delta, &ops[0]).await.unwrap() > 0);
    let (m, (lo, hi)) = (median(times.clone()), range(&times));
    let (sm, (slo, shi)) = (median(staged.clone()), range(&staged));
    println!(
        "epoch end AVS rewards, {REWARD_AVSS} submissions x {REWARD_OPERATORS} operators: median {:.0} ms [{:.0} - {:.0}], {:.1} us per credit; {reads} reads, {iterated} iterated, {writes} writes ({:.1} reads per credit); one state read {:.1} us; staging its writes (Merkle root) {:.0} ms [{:.0} - {:.0}]",
        m * 1e3,
        lo * 1e3,
        hi * 1e3,
        m / credits * 1e6,
        reads as f64 / credits,
        read * 1e6,
        sm * 1e3,
        slo * 1e3,
        shi * 1e3
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(slash_cost());
    rt.block_on(epoch_rewards());
}
