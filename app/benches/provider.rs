//! Consumer-chain costs on the provider, on real RocksDB state, in-process:
//!
//! - the epoch end (the end-block hooks FinalizeBlock runs at an epoch
//!   height: provider validator set, consumer, AVS reward rounds, then the
//!   provider's `provider::hooks::end_block`) with 1,000 operators and
//!   (a) no consumers; (b) 50 launched consumers, every operator opted in
//!   and allocated to each, nothing changed since the last epoch end;
//!   (d) one consumer changed (an operator assigned it a new consumer key);
//!   one operator changed its allocation to one consumer; one operator
//!   deposited (its stake, and so its power on all 50, changed);
//!   (c) every operator deposited: 50 recomputations of 1,000-operator
//!   sets and 50 VSC packets of 1,000 updates;
//! - 1,000 slash packets in one block from a consumer with 1,000
//!   validators, through the provider port's `on_recv_packet_execute`
//!   (decode, fork, `infractions::on_slash_packet`) on one delta, with the
//!   default jail bound (10% of the power per epoch: most bounce) and with
//!   the bound at 100% (all handled); and what reading that consumer's
//!   validator set costs, which every slash packet does. The IBC receive
//!   handler around it (proof verification, receipt) is not included:
//!   `benches/ibc.rs` measures it.
//!
//! `taskset -c 0 cargo bench -p aegis-app --bench provider`. The state is
//! built with the modules' own code paths (register operators, deposit,
//! create consumers, opt in with a key, allocate, and the launch through
//! the provider's own epoch end after the spawn time) straight on state
//! deltas and committed. Every measurement runs on a fresh delta over the
//! committed state, so it reads through the Jellyfish Merkle tree as a
//! block would; a state change a case needs is committed before it, and a
//! committed epoch end after it clears the change again.
//!
//! Setup only, not the protocol: each consumer's CCV channel. A real one
//! is opened by the consumer chain (client, connection and channel
//! handshakes verified against its headers), which for 50 consumers with
//! 1,000 validators each is a benchmark of its own. Here the connection
//! end (OPEN, on the client the provider created for the consumer at
//! launch) and the ORDERED channel end on port `provider` are written
//! through ibc-rs's host `ExecutionContext` (Aegis's `IbcContext`), as
//! ibc-rs's handlers write them, and then the provider port's own
//! `on_chan_open_confirm_validate`/`_execute` bind the channel to the
//! consumer. Sending VSC packets on it is then ibc-rs's real
//! `send_packet`, as in a block.
//!
//! Reads are counted with a gas meter whose only price is one unit per
//! read (iterated entries and writes are counted in higher bits).

use std::time::{Duration, Instant};

use aegis_app::avs::genesis::AvsGenesis;
use aegis_app::avs::msgs::ModifyAllocations;
use aegis_app::avs::{AvsParams, AvsRead};
use aegis_app::bank::BankWrite;
use aegis_app::ccv;
use aegis_app::delegation::msgs::RegisterOperator;
use aegis_app::delegation::DelegationRead;
use aegis_app::ibc::hooks::HostHeader;
use aegis_app::math::WAD;
use aegis_app::provider::channel::ProviderModule;
use aegis_app::provider::msgs::{AssignConsumerKey, CreateConsumer, OptIn};
use aegis_app::provider::state::Phase;
use aegis_app::provider::{ProviderParams, ProviderRead, ProviderWrite};
use aegis_app::restaking::genesis::{GenesisStrategy, RestakingGenesis};
use aegis_app::restaking::RestakingWrite;
use aegis_app::store::{BlockContext, GasCosts, GasMeter, StoreWrite};
use aegis_app::testkit::CHAIN_ID;
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_app::AppGenesis;
use aegis_proto::aegis::avs::v1 as apb;
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::provider::v1 as ppb;
use cnidarium::{Snapshot, StateDelta, Storage};
use ibc_core::channel::types::channel::{ChannelEnd, Counterparty as ChanCounterparty, Order, State as ChanState};
use ibc_core::channel::types::packet::Packet;
use ibc_core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
use ibc_core::channel::types::Version as ChanVersion;
use ibc_core::commitment_types::commitment::CommitmentPrefix;
use ibc_core::connection::types::version::Version as ConnVersion;
use ibc_core::connection::types::{ConnectionEnd, Counterparty as ConnCounterparty, State as ConnState};
use ibc_core::host::types::identifiers::{ChannelId, ClientId, ConnectionId, PortId, Sequence};
use ibc_core::host::types::path::{ChannelEndPath, ClientConnectionPath, ConnectionPath, SeqAckPath, SeqRecvPath, SeqSendPath};
use ibc_core::host::{ExecutionContext, ValidationContext};
use ibc_core::primitives::Signer as IbcSigner;
use ibc_core::router::module::Module;
use tendermint::abci::Event;

const OPERATORS: usize = 1_000;
const CONSUMERS: usize = 50;
const LST: &str = "stuaegis";
/// Each operator deposits this much of each denom, plus i x 10^9.
const STAKE: u128 = 1_000_000_000_000;
/// Each operator allocates 1% of each denom to each consumer: 10^10
/// tokens, 10,000 power in uaegis and 20,000 in the LST (weight 2x).
const MAGNITUDE: u128 = WAD / 100;
/// Epoch length of the default delegation params.
const EPOCH: u64 = 100;
const LAUNCH_HEIGHT: u64 = 3 * EPOCH;
const RUNS: usize = 5;

fn addr(kind: &str, i: usize) -> Address {
    Address::module(&format!("providerbench/{kind}/{i}"))
}

fn seed(what: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(what.as_bytes()).into()
}

fn pubkey(what: &str) -> [u8; 32] {
    ed25519_consensus::SigningKey::from(seed(what)).verification_key().to_bytes()
}

/// Operator `i`'s key on consumer `c` (hex).
fn consumer_key(i: usize, c: u64) -> String {
    hex::encode(pubkey(&format!("consumer-key/{i}/{c}")))
}

fn cons_addr(key_hex: &str) -> [u8; 20] {
    use sha2::{Digest, Sha256};
    Sha256::digest(hex::decode(key_hex).unwrap())[..20].try_into().unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn range(v: &[f64]) -> (f64, f64) {
    (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(0.0, f64::max))
}

fn block_context(height: u64) -> BlockContext {
    BlockContext { chain_id: CHAIN_ID.into(), height, time_seconds: block_time(height), time_nanos: 0 }
}

fn block_time(height: u64) -> i64 {
    1_700_000_000 + height as i64 * 5
}

/// (point reads, iterated entries, writes and deletes), counted by a gas
/// meter priced at 1 / 2^24 / 2^44 units.
fn counting_meter() -> GasMeter {
    let costs = GasCosts {
        read_flat: 1,
        read_per_byte: 0,
        write_flat: 1 << 44,
        write_per_byte: 0,
        delete: 1 << 44,
        iter_next_flat: 1 << 24,
        tx_size_per_byte: 0,
        sig_verify_secp256k1: 0,
        per_message: 0,
    };
    GasMeter::new(u64::MAX, costs)
}

fn decode_counts(used: u64) -> (u64, u64, u64) {
    (used & ((1 << 24) - 1), (used >> 24) & ((1 << 20) - 1), used >> 44)
}

/// Bytes read (keys and values of point reads and iterated entries).
fn bytes_meter() -> GasMeter {
    let costs = GasCosts {
        read_flat: 0,
        read_per_byte: 1,
        write_flat: 0,
        write_per_byte: 0,
        delete: 0,
        iter_next_flat: 0,
        tx_size_per_byte: 0,
        sig_verify_secp256k1: 0,
        per_message: 0,
    };
    GasMeter::new(u64::MAX, costs)
}

/// A chain whose allocations apply at once (no allocation delay), with one
/// LST strategy besides uaegis.
async fn storage() -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().unwrap();
    let storage = aegis_app::store::open(dir.path().join("db")).await.unwrap();
    let mut app = aegis_app::App::new(storage.clone());
    let genesis = AppGenesis {
        avs: AvsGenesis { params: AvsParams { default_allocation_delay_seconds: 0, ..Default::default() } },
        restaking: RestakingGenesis { strategies: vec![GenesisStrategy { denom: LST.into(), deposit_cap: None }], ..Default::default() },
        ..Default::default()
    };
    app.init_chain(CHAIN_ID, &serde_json::to_vec(&genesis).unwrap(), (block_time(0), 0)).await.unwrap();
    (dir, storage)
}

type Delta = StateDelta<Snapshot>;

fn delta_at(storage: &Storage, height: u64) -> Delta {
    let mut delta = StateDelta::new(storage.latest_snapshot());
    delta.put_block_context(block_context(height));
    delta
}

async fn register_operators(storage: &Storage) {
    for chunk in (0..OPERATORS).collect::<Vec<_>>().chunks(100) {
        let mut delta = delta_at(storage, 1);
        for &i in chunk {
            let op = addr("operator", i);
            let key = pubkey(&format!("provider-key/{i}")).to_vec();
            let msg = dpb::MsgRegisterOperator { operator: op.to_string(), commission_rate_bps: 500, max_commission_rate_bps: 1000, consensus_pubkey: key, ..Default::default() };
            RegisterOperator::check_stateless(&msg).unwrap().check_and_execute(&mut delta).await.unwrap();
            let stake = STAKE + i as u128 * 1_000_000_000;
            for denom in [NATIVE_DENOM, LST] {
                delta.mint(&op, &Coin::new(denom, stake)).await.unwrap();
                delta.deposit_tokens(&op, &Coin::new(denom, stake)).await.unwrap();
            }
        }
        storage.commit(delta).await.unwrap();
    }
}

fn consumer_params(n: usize) -> ppb::ConsumerParameters {
    ppb::ConsumerParameters {
        chain_id: format!("consumer{n}-1"),
        metadata: Some(ppb::ConsumerMetadata { name: format!("consumer {n}"), description: String::new(), metadata: String::new() }),
        spawn_time: block_time(LAUNCH_HEIGHT),
        power_shaping: Some(ppb::PowerShaping::default()),
        strategies: vec![ppb::StrategyWeight { denom: NATIVE_DENOM.into(), weight_bps: 10_000 }, ppb::StrategyWeight { denom: LST.into(), weight_bps: 20_000 }],
        reward_fraction: "0.25".into(),
        // A downtime jail also slashes 0.01% of the allocation to the
        // consumer, so a handled slash packet pays the AVS slash path too.
        infractions: Some(ppb::InfractionParameters { double_sign_fraction: (WAD / 20).to_string(), downtime_fraction: (WAD / 10_000).to_string(), downtime_jail_seconds: 600 }),
        unbonding_period_seconds: 0,
        commission_bps: 1_000,
        proof_specs: String::new(),
        blocks_per_distribution_transmission: 0,
    }
}

async fn create_consumers(storage: &Storage) -> Vec<u64> {
    let owner = addr("owner", 0);
    let mut delta = delta_at(storage, 2 * EPOCH + 1);
    let mut ids = Vec::new();
    for n in 0..CONSUMERS {
        let msg = ppb::MsgCreateConsumer { owner: owner.to_string(), parameters: Some(consumer_params(n)) };
        ids.push(CreateConsumer::check_stateless(&msg).unwrap().check_and_execute(&mut delta).await.unwrap());
    }
    storage.commit(delta).await.unwrap();
    ids
}

/// Every operator opts in to every consumer with its own key there and
/// allocates MAGNITUDE of both denoms to it.
async fn opt_in_all(storage: &Storage, ids: &[u64]) {
    for chunk in (0..OPERATORS).collect::<Vec<_>>().chunks(50) {
        let mut delta = delta_at(storage, 2 * EPOCH + 1);
        for &i in chunk {
            let op = addr("operator", i);
            for &id in ids {
                let msg = ppb::MsgOptIn { operator: op.to_string(), consumer_id: id, consumer_key: consumer_key(i, id) };
                OptIn::check_stateless(&msg).unwrap().check_and_execute(&mut delta).await.unwrap();
            }
            let all: Vec<apb::AllocateParams> = ids
                .iter()
                .flat_map(|&id| {
                    [NATIVE_DENOM, LST].map(|d| apb::AllocateParams { avs_id: id, operator_set_id: 0, strategy: d.into(), magnitude: MAGNITUDE.to_string() })
                })
                .collect();
            for allocations in all.chunks(aegis_app::avs::msgs::MAX_ALLOCATIONS_PER_MSG) {
                let m = apb::MsgModifyAllocations { operator: op.to_string(), allocations: allocations.to_vec() };
                ModifyAllocations::check_stateless(&m).unwrap().check_and_execute(&mut delta).await.unwrap();
            }
        }
        storage.commit(delta).await.unwrap();
    }
}

/// What FinalizeBlock's begin block records for IBC (the host consensus
/// state a consumer genesis carries).
async fn ibc_begin_block(delta: &mut Delta, storage: &Storage, height: u64) {
    let app_hash = storage.latest_snapshot().root_hash().await.unwrap().0.to_vec();
    let header = HostHeader { height, time_seconds: block_time(height), time_nanos: 0, app_hash, next_validators_hash: vec![0; 32] };
    aegis_app::ibc::hooks::begin_block(delta, &header).await.unwrap();
}

/// The end-block hooks FinalizeBlock runs, in its order, in a fork (as
/// FinalizeBlock does). Returns the provider hook's share (seconds and
/// state work) and the events.
async fn end_hooks(delta: &mut Delta, height: u64, meter: Option<&GasMeter>) -> (f64, (u64, u64, u64), Vec<Event>) {
    let mut end = StateDelta::new(&mut *delta);
    aegis_app::delegation::hooks::end_block(&mut end, height).await.unwrap();
    aegis_app::consumer::hooks::end_block(&mut end, height).await.unwrap();
    aegis_app::rewards::hooks::end_epoch(&mut end, height).await.unwrap();
    let before = meter.map(|m| m.used()).unwrap_or(0);
    let t = Instant::now();
    aegis_app::provider::hooks::end_block(&mut end, height).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    let counts = decode_counts(meter.map(|m| m.used()).unwrap_or(0) - before);
    let (_, events) = end.apply();
    (secs, counts, events)
}

fn count(events: &[Event], kind: &str) -> usize {
    events.iter().filter(|e| e.kind == kind).count()
}

fn attr(e: &Event, key: &str) -> String {
    e.attributes.iter().find(|a| a.key_str().ok() == Some(key)).and_then(|a| a.value_str().ok().map(str::to_string)).unwrap_or_default()
}

/// A committed epoch end at `height` (clears the journal and dirty marks).
async fn settle(storage: &Storage, height: u64) -> Vec<Event> {
    let mut delta = delta_at(storage, height);
    ibc_begin_block(&mut delta, storage, height).await;
    let (_, _, events) = end_hooks(&mut delta, height, None).await;
    storage.commit(delta).await.unwrap();
    events
}

/// Setup only (see the file's doc): connection and channel ends for each
/// consumer written through the IBC host context, then bound by the
/// provider port's own ChanOpenConfirm callbacks.
async fn open_ccv_channels(storage: &Storage, ids: &[u64], height: u64) {
    let mut delta = delta_at(storage, height);
    let mut consumers = Vec::new();
    for &id in ids {
        consumers.push(delta.consumer(id).await.unwrap().unwrap());
    }
    let fee_pool = aegis_app::provider::msgs::module_address().to_string();
    let mut ctx = aegis_app::ibc::host::context(&mut delta).await.unwrap();
    let provider_port: PortId = ccv::PROVIDER_PORT.parse().unwrap();
    let consumer_port: PortId = ccv::CONSUMER_PORT.parse().unwrap();
    for c in &consumers {
        let client_id: ClientId = c.client_id.clone().expect("launched").parse().unwrap();
        let conn_id = ConnectionId::new(ctx.connection_counter().unwrap());
        let counterparty = ConnCounterparty::new("07-tendermint-0".parse().unwrap(), Some(ConnectionId::new(0)), CommitmentPrefix::from(b"ibc".to_vec()));
        let conn = ConnectionEnd::new(ConnState::Open, client_id.clone(), counterparty, vec![ConnVersion::compatibles().remove(0)], Duration::ZERO).unwrap();
        ctx.store_connection(&ConnectionPath::new(&conn_id), conn).unwrap();
        ctx.store_connection_to_client(&ClientConnectionPath::new(client_id), conn_id.clone()).unwrap();
        ctx.increase_connection_counter().unwrap();

        let chan_id = ChannelId::new(ctx.channel_counter().unwrap());
        let version = ChanVersion::new(ccv::handshake_metadata(&fee_pool).unwrap());
        let chan = ChannelEnd::new(ChanState::Open, Order::Ordered, ChanCounterparty::new(consumer_port.clone(), Some(ChannelId::new(0))), vec![conn_id], version).unwrap();
        ctx.store_channel(&ChannelEndPath::new(&provider_port, &chan_id), chan).unwrap();
        ctx.store_next_sequence_send(&SeqSendPath::new(&provider_port, &chan_id), Sequence::from(1)).unwrap();
        ctx.store_next_sequence_recv(&SeqRecvPath::new(&provider_port, &chan_id), Sequence::from(1)).unwrap();
        ctx.store_next_sequence_ack(&SeqAckPath::new(&provider_port, &chan_id), Sequence::from(1)).unwrap();
        ctx.increase_channel_counter().unwrap();

        let mut module = ProviderModule::new(ctx.clone());
        module.on_chan_open_confirm_validate(&provider_port, &chan_id).unwrap();
        module.on_chan_open_confirm_execute(&provider_port, &chan_id).unwrap();
    }
    drop(ctx);
    for &id in ids {
        let c = delta.consumer(id).await.unwrap().unwrap();
        let chan = c.channel_id.clone().expect("bound");
        assert_eq!(delta.consumer_by_channel(&chan).await.unwrap(), Some(id));
    }
    storage.commit(delta).await.unwrap();
}

/// Operator `i` deposits 1% more uaegis (its power rises on every
/// consumer it is in).
async fn deposit(delta: &mut Delta, i: usize) {
    let op = addr("operator", i);
    let amount = (STAKE + i as u128 * 1_000_000_000) / 100;
    delta.mint(&op, &Coin::new(NATIVE_DENOM, amount)).await.unwrap();
    delta.deposit_tokens(&op, &Coin::new(NATIVE_DENOM, amount)).await.unwrap();
}

struct EpochCase {
    total: (f64, (f64, f64)),
    provider: (f64, (f64, f64)),
    staged: (f64, (f64, f64)),
    total_counts: (u64, u64, u64),
    provider_counts: (u64, u64, u64),
    recomputed: usize,
    packets: usize,
    updates: usize,
}

/// The consumers the next epoch end recomputes, as the provider hook
/// chooses them: marked dirty, or with an opted-in operator in the journal
/// of changed operators.
async fn to_recompute(storage: &Storage) -> usize {
    let snap = storage.latest_snapshot();
    let mut set: std::collections::BTreeSet<u64> = snap.dirty_consumers().await.unwrap().into_iter().collect();
    for op in snap.changed_operators().await.unwrap() {
        for (avs, _, reg) in snap.registrations(&op).await.unwrap() {
            if reg.registered && snap.consumer(avs).await.unwrap().is_some_and(|c| c.phase == Phase::Launched) {
                set.insert(avs);
            }
        }
    }
    set.len()
}

/// The epoch end at `height`, RUNS times on fresh deltas (3 if one takes
/// over a second) after a first, uncounted one, each with its Merkle-root
/// staging timed after it.
async fn epoch_case(storage: &Storage, height: u64) -> EpochCase {
    let (mut totals, mut providers, mut staged) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    let mut runs = RUNS;
    let mut run = 0;
    while run <= runs {
        let mut delta = delta_at(storage, height);
        let meter = counting_meter();
        delta.put_gas_meter(meter.clone());
        let t = Instant::now();
        let (p, pc, events) = end_hooks(&mut delta, height, Some(&meter)).await;
        let total = t.elapsed().as_secs_f64();
        let total_counts = decode_counts(meter.used());
        let t = Instant::now();
        let batch = storage.prepare_commit(delta).await.unwrap();
        let s = t.elapsed().as_secs_f64();
        drop(batch);
        if run > 0 {
            totals.push(total);
            providers.push(p);
            staged.push(s);
        } else if total > 1.0 {
            runs = 3;
        }
        last = Some((total_counts, pc, events));
        run += 1;
    }
    let (total_counts, provider_counts, events) = last.unwrap();
    let changes: Vec<&Event> = events.iter().filter(|e| e.kind == "consumer_validator_set_change").collect();
    EpochCase {
        total: (median(totals.clone()), range(&totals)),
        provider: (median(providers.clone()), range(&providers)),
        staged: (median(staged.clone()), range(&staged)),
        total_counts,
        provider_counts,
        recomputed: to_recompute(storage).await,
        packets: count(&events, "send_packet"),
        updates: changes.iter().map(|e| attr(e, "updates").parse::<usize>().unwrap()).sum(),
    }
}

fn ms(x: f64) -> String {
    if x < 0.01 {
        format!("{:.1} us", x * 1e6)
    } else {
        format!("{:.1} ms", x * 1e3)
    }
}

fn print_case(label: &str, c: &EpochCase) {
    println!(
        "{label}: epoch end {} [{} - {}], provider hook {} [{} - {}]; reads {} ({} provider), iterated {} ({}), writes {} ({}); recomputed {}, VSC packets {}, updates {}; staging {} [{} - {}]",
        ms(c.total.0),
        ms(c.total.1 .0),
        ms(c.total.1 .1),
        ms(c.provider.0),
        ms(c.provider.1 .0),
        ms(c.provider.1 .1),
        c.total_counts.0,
        c.provider_counts.0,
        c.total_counts.1,
        c.provider_counts.1,
        c.total_counts.2,
        c.provider_counts.2,
        c.recomputed,
        c.packets,
        c.updates,
        ms(c.staged.0),
        ms(c.staged.1 .0),
        ms(c.staged.1 .1),
    );
}

/// 1,000 slash packets (downtime, one per validator of consumer `id`, in
/// operator order) on one delta. Returns per-packet (seconds, reads, bytes
/// read) for the handled and the bounced ones.
async fn slash_block(storage: &Storage, id: u64, height: u64, bound_percent: Option<u32>, bytes: bool) -> (Vec<(f64, u64, u64)>, Vec<(f64, u64, u64)>, f64) {
    let mut delta = delta_at(storage, height);
    if let Some(b) = bound_percent {
        delta.put_provider_params(&ProviderParams { jail_bound_percent: b, ..Default::default() }).unwrap();
    }
    let c = delta.consumer(id).await.unwrap().unwrap();
    let chan_on_provider: ChannelId = c.channel_id.clone().unwrap().parse().unwrap();
    let meter = if bytes { bytes_meter() } else { counting_meter() };
    delta.put_gas_meter(meter.clone());
    let packets: Vec<Packet> = (0..OPERATORS)
        .map(|i| {
            let p = ccv::SlashPacket {
                validator_address: cons_addr(&consumer_key(i, id)),
                power: 1,
                valset_update_id: c.valset_update_id,
                infraction: ccv::Infraction::Downtime,
            };
            Packet {
                seq_on_a: Sequence::from(i as u64 + 1),
                port_id_on_a: ccv::CONSUMER_PORT.parse().unwrap(),
                chan_id_on_a: ChannelId::new(0),
                port_id_on_b: ccv::PROVIDER_PORT.parse().unwrap(),
                chan_id_on_b: chan_on_provider.clone(),
                data: ccv::ConsumerPacket::Slash(p).encode(),
                timeout_height_on_b: TimeoutHeight::Never,
                timeout_timestamp_on_b: TimeoutTimestamp::Never,
            }
        })
        .collect();
    let relayer = IbcSigner::from(addr("relayer", 0).to_string());
    let (handled_ack, bounced_ack) = (ccv::result_ack(ccv::ACK_SLASH_HANDLED), ccv::result_ack(ccv::ACK_SLASH_BOUNCED));
    let ctx = aegis_app::ibc::host::context(&mut delta).await.unwrap();
    let mut module = ProviderModule::new(ctx);
    let (mut handled, mut bounced) = (Vec::new(), Vec::new());
    let start = Instant::now();
    for packet in &packets {
        let before = meter.used();
        let t = Instant::now();
        let (_, ack) = module.on_recv_packet_execute(packet, &relayer);
        let secs = t.elapsed().as_secs_f64();
        let used = meter.used() - before;
        let (reads, b) = if bytes { (0, used) } else { (decode_counts(used).0, 0) };
        let ack = ack.unwrap();
        if ack.as_bytes() == handled_ack.as_slice() {
            handled.push((secs, reads, b));
        } else if ack.as_bytes() == bounced_ack.as_slice() {
            bounced.push((secs, reads, b));
        } else {
            panic!("unexpected ack {}", String::from_utf8_lossy(ack.as_bytes()));
        }
    }
    let total = start.elapsed().as_secs_f64();
    (handled, bounced, total)
}

/// Median time of one state read (an operator record) in this state.
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

/// Median time of reading a consumer's stored validator set: the raw
/// bytes, and the bytes decoded (what a slash packet does now).
async fn time_set_read(storage: &Storage, id: u64) -> (f64, f64, usize) {
    use aegis_app::store::StoreRead;
    let snap = storage.latest_snapshot();
    let key = format!("provider/valsets/{id:020}");
    let (mut raw, mut decoded) = (Vec::new(), Vec::new());
    let mut len = 0;
    for _ in 0..21 {
        let t = Instant::now();
        len = snap.read_bytes(&key).await.unwrap().unwrap().len();
        raw.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        assert_eq!(snap.consumer_validators(id).await.unwrap().len(), OPERATORS);
        decoded.push(t.elapsed().as_secs_f64());
    }
    (median(raw), median(decoded), len)
}

struct SlashCase {
    handled: usize,
    bounced: usize,
    total: (f64, (f64, f64)),
    handled_us: (f64, (f64, f64)),
    bounced_us: (f64, (f64, f64)),
    handled_reads: (u64, u64),
    bounced_reads: (u64, u64),
    handled_bytes: u64,
    bounced_bytes: u64,
}

async fn slash_case(storage: &Storage, id: u64, height: u64, bound: Option<u32>) -> SlashCase {
    let (mut totals, mut h_med, mut b_med) = (Vec::new(), Vec::new(), Vec::new());
    let (mut nh, mut nb) = (0, 0);
    for run in 0..=RUNS.min(3) {
        let (h, b, total) = slash_block(storage, id, height, bound, false).await;
        if run > 0 {
            totals.push(total);
            if !h.is_empty() {
                h_med.push(median(h.iter().map(|x| x.0).collect()));
            }
            if !b.is_empty() {
                b_med.push(median(b.iter().map(|x| x.0).collect()));
            }
        }
        (nh, nb) = (h.len(), b.len());
    }
    let (h, b, _) = slash_block(storage, id, height, bound, false).await;
    let minmax = |v: &[(f64, u64, u64)]| (v.iter().map(|x| x.1).min().unwrap_or(0), v.iter().map(|x| x.1).max().unwrap_or(0));
    let (hr, br) = (minmax(&h), minmax(&b));
    let (h, b, _) = slash_block(storage, id, height, bound, true).await;
    let avg_bytes = |v: &[(f64, u64, u64)]| if v.is_empty() { 0 } else { v.iter().map(|x| x.2).sum::<u64>() / v.len() as u64 };
    let or0 = |v: Vec<f64>| if v.is_empty() { (0.0, (0.0, 0.0)) } else { (median(v.clone()), range(&v)) };
    SlashCase {
        handled: nh,
        bounced: nb,
        total: (median(totals.clone()), range(&totals)),
        handled_us: or0(h_med),
        bounced_us: or0(b_med),
        handled_reads: hr,
        bounced_reads: br,
        handled_bytes: avg_bytes(&h),
        bounced_bytes: avg_bytes(&b),
    }
}

fn print_slash(label: &str, s: &SlashCase) {
    println!(
        "{label}: {} handled, {} bounced; block of 1,000 packets {} [{} - {}]; per handled packet {:.1} us [{:.1} - {:.1}], {}-{} reads, {} bytes read; per bounced packet {:.1} us [{:.1} - {:.1}], {}-{} reads, {} bytes read",
        s.handled,
        s.bounced,
        ms(s.total.0),
        ms(s.total.1 .0),
        ms(s.total.1 .1),
        s.handled_us.0 * 1e6,
        s.handled_us.1 .0 * 1e6,
        s.handled_us.1 .1 * 1e6,
        s.handled_reads.0,
        s.handled_reads.1,
        s.handled_bytes,
        s.bounced_us.0 * 1e6,
        s.bounced_us.1 .0 * 1e6,
        s.bounced_us.1 .1 * 1e6,
        s.bounced_reads.0,
        s.bounced_reads.1,
        s.bounced_bytes,
    );
}

async fn run() {
    let (_dir, storage) = storage().await;
    let t = Instant::now();
    register_operators(&storage).await;
    settle(&storage, EPOCH).await;
    println!("setup: {OPERATORS} operators with uaegis and {LST} in {:.1} s", t.elapsed().as_secs_f64());
    let none = epoch_case(&storage, 2 * EPOCH).await;
    print_case("(a) no consumers", &none);
    let read_small = time_read(&storage).await;
    println!("one state read (an operator record): {:.1} us", read_small * 1e6);

    let t = Instant::now();
    let ids = create_consumers(&storage).await;
    opt_in_all(&storage, &ids).await;
    println!("setup: {CONSUMERS} consumers, every operator opted in with a key and allocated in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let events = settle(&storage, LAUNCH_HEIGHT).await;
    if let Some(e) = events.iter().find(|e| e.kind == "consumer_launch_failed") {
        panic!("launch failed: {}", attr(e, "error"));
    }
    assert_eq!(count(&events, "consumer_launched"), CONSUMERS);
    let snap = storage.latest_snapshot();
    for &id in &ids {
        let c = snap.consumer(id).await.unwrap().unwrap();
        assert_eq!(c.phase, Phase::Launched);
        assert_eq!(snap.consumer_validators(id).await.unwrap().len(), OPERATORS);
    }
    println!("setup: launch of {CONSUMERS} consumers with {OPERATORS} validators each (provider epoch end) in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    open_ccv_channels(&storage, &ids, LAUNCH_HEIGHT + 1).await;
    let events = settle(&storage, LAUNCH_HEIGHT + EPOCH).await;
    assert_eq!(count(&events, "send_packet"), 0, "the sets did not change since launch");
    println!("setup: {CONSUMERS} CCV channels bound, one epoch end recomputing all {CONSUMERS} (no change, nothing sent) in {:.1} s", t.elapsed().as_secs_f64());

    let mut height = LAUNCH_HEIGHT + 2 * EPOCH;
    let idle = epoch_case(&storage, height).await;
    print_case("(b) 50 consumers, nothing changed", &idle);
    let read_large = time_read(&storage).await;
    println!("one state read (an operator record): {:.1} us (ratio to the state without consumers {:.2})", read_large * 1e6, read_large / read_small);

    // (d) One consumer changed: operator 0 assigns consumer 1 a new key.
    let mut delta = delta_at(&storage, height - 1);
    let m = ppb::MsgAssignConsumerKey { operator: addr("operator", 0).to_string(), consumer_id: ids[0], consumer_key: hex::encode(pubkey("rotated")) };
    AssignConsumerKey::check_stateless(&m).unwrap().check_and_execute(&mut delta).await.unwrap();
    storage.commit(delta).await.unwrap();
    let one_key = epoch_case(&storage, height).await;
    print_case("(d) one consumer changed (a new consumer key)", &one_key);
    settle(&storage, height).await;
    height += EPOCH;

    // One operator raises its uaegis allocation to one consumer.
    let mut delta = delta_at(&storage, height - 1);
    let m = apb::MsgModifyAllocations {
        operator: addr("operator", 1).to_string(),
        allocations: vec![apb::AllocateParams { avs_id: ids[1], operator_set_id: 0, strategy: NATIVE_DENOM.into(), magnitude: (2 * MAGNITUDE).to_string() }],
    };
    ModifyAllocations::check_stateless(&m).unwrap().check_and_execute(&mut delta).await.unwrap();
    storage.commit(delta).await.unwrap();
    let one_alloc = epoch_case(&storage, height).await;
    print_case("(d) one operator's allocation to one consumer changed", &one_alloc);
    settle(&storage, height).await;
    height += EPOCH;

    // One operator deposits 1% more uaegis: its power changes on all 50.
    let mut delta = delta_at(&storage, height - 1);
    deposit(&mut delta, 2).await;
    storage.commit(delta).await.unwrap();
    let one_deposit = epoch_case(&storage, height).await;
    print_case("(d) one operator deposited (its power changed on all 50)", &one_deposit);
    settle(&storage, height).await;
    height += EPOCH;

    // (c) Every operator deposits.
    let mut delta = delta_at(&storage, height - 1);
    for i in 0..OPERATORS {
        deposit(&mut delta, i).await;
    }
    storage.commit(delta).await.unwrap();
    let all = epoch_case(&storage, height).await;
    print_case("(c) every operator deposited", &all);

    // Slash packets: consumer 2 (no key rotated, no allocation changed);
    // its set is the launch set (1,000 validators).
    let id = ids[2];
    assert_eq!(storage.latest_snapshot().consumer_validators(id).await.unwrap().len(), OPERATORS);
    let (raw, decoded, len) = time_set_read(&storage, id).await;
    println!("reading consumer {id}'s validator set ({OPERATORS} validators, {len} bytes of JSON): {:.1} us raw, {:.1} us read and decoded", raw * 1e6, decoded * 1e6);
    let bounded = slash_case(&storage, id, height + 1, None).await;
    print_slash("1,000 slash packets, jail bound 10%", &bounded);
    let unbounded = slash_case(&storage, id, height + 1, Some(100)).await;
    print_slash("1,000 slash packets, jail bound 100%", &unbounded);

    println!();
    println!("| case | epoch end | provider hook | reads (provider) | recomputed | VSC packets (updates) |");
    println!("|---|---|---|---|---|---|");
    for (label, c) in [
        ("(a) 1,000 operators, no consumers", &none),
        ("(b) + 50 consumers x 1,000 opted in, nothing changed", &idle),
        ("(d) one consumer changed (new consumer key)", &one_key),
        ("(d) one operator's allocation to one consumer changed", &one_alloc),
        ("(d) one operator deposited", &one_deposit),
        ("(c) every operator deposited", &all),
    ] {
        println!(
            "| {label} | {} [{} - {}] | {} [{} - {}] | {} ({}) | {} | {} ({}) |",
            ms(c.total.0),
            ms(c.total.1 .0),
            ms(c.total.1 .1),
            ms(c.provider.0),
            ms(c.provider.1 .0),
            ms(c.provider.1 .1),
            c.total_counts.0,
            c.provider_counts.0,
            c.recomputed,
            c.packets,
            c.updates
        );
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(run());
}
