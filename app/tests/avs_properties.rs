//! Property: under any sequence of AVS, allocation, slashing, staking and
//! reward steps, valid or not, after every block
//! - the test kit's invariants hold (supply matches balances, pools cover
//!   every share, rewards owed are held, each operator's encumbered
//!   magnitude equals the sum of its allocations and stays within its max
//!   magnitude);
//! - each AVS, allocation and slashing message does what the rules say:
//!   the allocations, encumbered and max magnitudes after a modification
//!   or a slash, the magnitude and tokens a slash takes (AVS slashes and
//!   the provider's double-sign and downtime slashes alike), and the error
//!   code of a refused message, which changes none of that state (an
//!   allocation above the unallocated magnitude is refused with avs 12);
//! - supply per denom is the initial supply plus minted provisions minus
//!   exactly the tokens slashes burned, and the AVS with a redistribution
//!   recipient pays that recipient exactly what its slashes took;
//! - every epoch end pays each AVS reward submission exactly its share by
//!   allocated stake, refunds the rest after the last epoch, and the
//!   escrow holds exactly what submissions still owe;
//! - no allocation change is left pending past its time.
//!
//! The default 40 cases of up to 60 steps take about 15 s in a debug
//! build. For more: `PROPTEST_CASES=500 cargo test -p aegis-app --release
//! --test avs_properties` (PROPTEST_CASES also works in debug).

use std::collections::{BTreeMap, BTreeSet};

use aegis_app::app::{BlockOutput, TxOutcome};
use aegis_app::avs::genesis::AvsGenesis;
use aegis_app::avs::{Allocation, AvsParams, AvsRead};
use aegis_app::delegation::genesis::{DelegationGenesis, GenesisDelegation, GenesisOperator};
use aegis_app::delegation::{DelegationParams, DelegationRead};
use aegis_app::math::{mul_div_down, mul_div_up, mul_wad_down, WAD};
use aegis_app::restaking::genesis::{GenesisStrategy, RestakingGenesis};
use aegis_app::restaking::{RestakingParams, RestakingRead};
use aegis_app::rewards::genesis::RewardsGenesis;
use aegis_app::rewards::state::Submission;
use aegis_app::rewards::{RewardsParams, RewardsRead, AVS_REWARDS_ESCROW};
use aegis_app::signer::{pack, Signer};
use aegis_app::slashing::genesis::SlashingGenesis;
use aegis_app::slashing::hooks::{CommitVote, Misbehavior};
use aegis_app::slashing::{SlashStatus, SlashingParams, SlashingRead};
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_proto::aegis::avs::v1 as apb;
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::restaking::v1 as rpb;
use aegis_proto::aegis::rewards::v1 as wpb;
use aegis_proto::aegis::slashing::v1 as spb;
use base64::Engine;
use cnidarium::Snapshot;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use prost::Message;
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use tendermint::abci::Event;

const FUNDS: u128 = 10_000_000_000_000;
const SELF_DELEGATION: u128 = 10_000_000_000;
/// A plain denom for now: an IBC-style one ("ibc/stuaegis") would also
/// exercise '/' in state keys, but the bank's supply check still takes a
/// balance key's last '/'-segment as its denom and fails at genesis.
const LST: &str = "stuaegis";
const DENOMS: [&str; 2] = [NATIVE_DENOM, LST];
const WITHDRAWAL_DELAY: u64 = 20;
const ALLOCATION_DELAY: u64 = 10;
const DEALLOCATION_DELAY: u64 = 30;
const CONFIGURATION_DELAY: u64 = 20;
const VETO_WINDOW: u64 = 15;
const BLOCKS_PER_EPOCH: u64 = 4;
const EPOCH_CAP: u128 = WAD / 2;
const DOUBLE_SIGN: u128 = WAD / 20;
const DOWNTIME: u128 = WAD / 100;
const JAIL: u64 = 30;
const OPS: usize = 3;

type Code = (&'static str, u32);

/// One operator set of the world. Sets are created in this order, so
/// `SETS[i]` is also what a step's `set: usize` means.
struct SetDef {
    avs: u64,
    id: u32,
    /// Index into the owners, who are also the sets' slashers.
    owner: usize,
    strategies: &'static [&'static str],
    /// 0 = no veto committee (slashes apply at once).
    veto_threshold: u32,
    /// Only operators 0 and 1 may register.
    allowlist: bool,
}

/// AVS 1 pays slashed tokens to a redistribution recipient; AVS 2 burns.
const SETS: [SetDef; 4] = [
    SetDef { avs: 1, id: 0, owner: 0, strategies: &[NATIVE_DENOM, LST], veto_threshold: 0, allowlist: false },
    SetDef { avs: 1, id: 1, owner: 0, strategies: &[NATIVE_DENOM], veto_threshold: 1, allowlist: false },
    SetDef { avs: 2, id: 0, owner: 1, strategies: &[NATIVE_DENOM, LST], veto_threshold: 2, allowlist: false },
    SetDef { avs: 2, id: 1, owner: 1, strategies: &[LST], veto_threshold: 0, allowlist: true },
];

#[derive(Clone, Debug)]
enum Target {
    /// A percentage of WAD (0 deallocates everything).
    Percent(u128),
    /// The current magnitude plus everything unallocated.
    AllAvailable,
    /// More than is unallocated (capped at WAD): must be refused.
    AboveAvailable(u128),
}

/// An AVS slash request: `mask` picks the set's strategies (none = all);
/// `foreign` adds a strategy the set does not accept; `reuse` repeats an
/// evidence ref already taken.
#[derive(Clone, Debug)]
struct SlashStep {
    op: usize,
    set: usize,
    mask: u8,
    foreign: bool,
    wad: u128,
    wrong_slasher: bool,
    reuse: Option<usize>,
}

#[derive(Clone, Debug)]
enum Step {
    Register { op: usize, set: usize },
    Deregister { op: usize, set: usize },
    /// One message with one or two (set, denom index, target) entries.
    Allocate { op: usize, entries: Vec<(usize, usize, Target)> },
    SetDelay { op: usize, zero: bool },
    Slash(SlashStep),
    /// `member` 2 is not on any committee.
    Veto { pick: usize, member: usize },
    Execute { pick: usize },
    /// `who` < 3: an operator; otherwise staker `who - 3`.
    Deposit { who: usize, denom: usize, amount: u128 },
    Delegate { who: usize, op: usize },
    Undelegate { who: usize },
    Redelegate { who: usize, op: usize },
    Queue { who: usize, denom: usize, percent: u128 },
    Complete { who: usize, as_tokens: bool },
    Wait { seconds: i64 },
    DoubleSign { op: usize },
    Downtime { op: usize },
    Unjail { op: usize },
    Submit { set: usize, denom: usize, amount: u128, epochs: u64, multipliers: Option<(u64, u64)> },
    Claim { who: usize },
    /// AVS 1 switches between redistributing and burning.
    SetRecipient { burn: bool },
    SetCommission { op: usize, avs: u64, bps: u32 },
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        3 => prop_oneof![0u128..=100, 0u128..=20].prop_map(Target::Percent),
        1 => Just(Target::AllAvailable),
        2 => prop_oneof![Just(1u128), 1u128..WAD / 4].prop_map(Target::AboveAvailable),
    ]
}

/// (set, denom index, target): mostly a strategy the set accepts.
fn entry() -> impl Strategy<Value = (usize, usize, Target)> {
    (0..4usize, 0..2usize, prop::bool::weighted(0.1), target()).prop_map(|(set, d, any_denom, target)| {
        let strategies = SETS[set].strategies;
        let denom = if any_denom { DENOMS[d] } else { strategies[d % strategies.len()] };
        (set, DENOMS.iter().position(|x| *x == denom).unwrap(), target)
    })
}

fn wad() -> impl Strategy<Value = u128> {
    prop_oneof![1u128..=WAD, Just(WAD), 1u128..1_000, Just(WAD / 2)]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (0..OPS, 0..4usize).prop_map(|(op, set)| Step::Register { op, set }),
        1 => (0..OPS, 0..4usize).prop_map(|(op, set)| Step::Deregister { op, set }),
        5 => (0..OPS, prop::collection::vec(entry(), 1..=2)).prop_map(|(op, entries)| Step::Allocate { op, entries }),
        1 => (0..OPS, any::<bool>()).prop_map(|(op, zero)| Step::SetDelay { op, zero }),
        5 => (0..OPS, 0..4usize, 0u8..4, prop::bool::weighted(0.1), wad(), prop::bool::weighted(0.05), prop::option::weighted(0.1, 0..8usize))
            .prop_map(|(op, set, mask, foreign, wad, wrong_slasher, reuse)| Step::Slash(SlashStep { op, set, mask, foreign, wad, wrong_slasher, reuse })),
        2 => (0..8usize, 0..3usize).prop_map(|(pick, member)| Step::Veto { pick, member }),
        2 => (0..8usize).prop_map(|pick| Step::Execute { pick }),
        3 => (0..6usize, 0..2usize, prop_oneof![1u128..1_000, 1_000u128..100_000_000_000]).prop_map(|(who, denom, amount)| Step::Deposit { who, denom, amount }),
        1 => (0..3usize, 0..OPS).prop_map(|(who, op)| Step::Delegate { who, op }),
        1 => (0..3usize).prop_map(|who| Step::Undelegate { who }),
        1 => (0..3usize, 0..OPS).prop_map(|(who, op)| Step::Redelegate { who, op }),
        2 => (0..6usize, 0..2usize, 1u128..=100).prop_map(|(who, denom, percent)| Step::Queue { who, denom, percent }),
        2 => (0..6usize, any::<bool>()).prop_map(|(who, as_tokens)| Step::Complete { who, as_tokens }),
        4 => prop_oneof![Just(0i64), 1i64..40].prop_map(|seconds| Step::Wait { seconds }),
        1 => (0..OPS).prop_map(|op| Step::DoubleSign { op }),
        1 => (0..OPS).prop_map(|op| Step::Downtime { op }),
        1 => (0..OPS).prop_map(|op| Step::Unjail { op }),
        2 => (0..4usize, 0..2usize, 1u128..1_000_000_000, 1u64..=3, prop::option::of((1u64..=3, 1u64..=3)))
            .prop_map(|(set, denom, amount, epochs, multipliers)| Step::Submit { set, denom, amount, epochs, multipliers }),
        1 => (0..6usize).prop_map(|who| Step::Claim { who }),
        1 => any::<bool>().prop_map(|burn| Step::SetRecipient { burn }),
        1 => (0..OPS, 1u64..=2, 0u32..2_500).prop_map(|(op, avs, bps)| Step::SetCommission { op, avs, bps }),
    ]
}

fn consensus_key(i: usize) -> Vec<u8> {
    ed25519_consensus::SigningKey::from([i as u8 + 1; 32]).verification_key().to_bytes().to_vec()
}

/// CometBFT's address of operator `i`'s consensus key.
fn consensus_address(i: usize) -> [u8; 20] {
    Sha256::digest(consensus_key(i))[..20].try_into().unwrap()
}

fn coin(denom: &str, amount: u128) -> ProtoCoin {
    ProtoCoin { denom: denom.into(), amount: amount.to_string() }
}

fn code(out: &TxOutcome) -> Code {
    match &out.result {
        Ok(()) => ("", 0),
        Err(e) => (e.codespace, e.code),
    }
}

/// The first message's response.
fn response<M: Message + Default>(out: &TxOutcome) -> M {
    let data = TxMsgData::decode(out.data.as_slice()).expect("tx data");
    M::decode(data.msg_responses[0].value.as_slice()).expect("response")
}

fn attr<'a>(ev: &'a Event, key: &str) -> &'a str {
    ev.attributes
        .iter()
        .find(|a| a.key_str().ok() == Some(key))
        .and_then(|a| a.value_str().ok())
        .unwrap_or_else(|| panic!("event {} has no attribute {key}", ev.kind))
}

/// "123uaegis" -> 123.
fn amount_of(s: &str, denom: &str) -> u128 {
    s.strip_suffix(denom).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{s:?} is not an amount of {denom}"))
}

/// An operator's allocations in one strategy, with its encumbered and max
/// magnitudes: everything a modification or a slash may change.
#[derive(Clone, Debug, PartialEq, Eq)]
struct View {
    allocations: Vec<(u64, u32, Allocation)>,
    encumbered: u128,
    max: u128,
}

impl View {
    fn get(&self, avs: u64, set: u32) -> Allocation {
        self.allocations.iter().find(|(a, s, _)| (*a, *s) == (avs, set)).map(|(_, _, a)| *a).unwrap_or_default()
    }

    /// Store `a`, dropping it if empty (the store deletes empty records).
    fn put(&mut self, avs: u64, set: u32, a: Allocation) {
        self.allocations.retain(|(x, y, _)| (*x, *y) != (avs, set));
        if a != Allocation::default() {
            self.allocations.push((avs, set, a));
            self.allocations.sort_by_key(|(x, y, _)| (*x, *y));
        }
    }

    fn available(&self) -> u128 {
        self.max.saturating_sub(self.encumbered)
    }

    /// Apply the changes due by `now`, as the block hook does before any
    /// transaction of the block.
    fn mature(&mut self, now: i64) {
        for (_, _, a) in self.allocations.iter_mut() {
            if a.has_pending() && a.effective_at <= now {
                if a.pending_increase > 0 {
                    a.magnitude += a.pending_increase;
                } else {
                    let dec = a.pending_decrease.min(a.magnitude);
                    a.magnitude -= dec;
                    self.encumbered = self.encumbered.saturating_sub(dec);
                }
                *a = Allocation { magnitude: a.magnitude, ..Default::default() };
            }
        }
        self.allocations.retain(|(_, _, a)| *a != Allocation::default());
    }
}

async fn raw_view(s: &Snapshot, op: &Address, denom: &str) -> View {
    View {
        allocations: s.allocations_in(op, denom).await.unwrap(),
        encumbered: s.encumbered_magnitude(op, denom).await.unwrap(),
        max: s.operator_stake(op, denom).await.unwrap().max_magnitude,
    }
}

/// What the operator's state will be at `now`, before any transaction.
async fn view_at(s: &Snapshot, op: &Address, denom: &str, now: i64) -> View {
    let mut v = raw_view(s, op, denom).await;
    v.mature(now);
    v
}

/// Tokens lowering `op`'s max magnitude from `old` to `new` takes from the
/// pool: the shares that stood for the difference, at the pool's rate.
async fn slashed_tokens(s: &Snapshot, op: &Address, denom: &str, old: u128, new: u128) -> u128 {
    let stake = s.operator_stake(op, denom).await.unwrap();
    let total = stake.total_scaled + stake.queued_scaled;
    let shares = mul_wad_down(total, old).unwrap() - mul_wad_down(total, new).unwrap();
    let strategy = s.strategy(denom).await.unwrap().expect("strategy");
    strategy.tokens_for_shares(shares, s.pool_tokens(denom).await.unwrap()).unwrap()
}

/// One strategy's part of a predicted AVS slash.
#[derive(Debug)]
struct SlashPart {
    denom: String,
    magnitude: u128,
    tokens: u128,
    after: View,
}

/// An AVS slash of `wad` of what `op` allocated to `avs/set`, at block
/// time `now` and height `height`: the magnitude taken rounds up and comes
/// off the allocation (and proportionally off a pending decrease), the
/// encumbered and the max magnitude; the per-epoch cap applies.
async fn predict_avs_slash(s: &Snapshot, op: &Address, (avs, set): (u64, u32), strategies: &[&str], wad: u128, now: i64, height: u64) -> Result<Vec<SlashPart>, Code> {
    if !s.registration(op, avs, set).await.unwrap().slashable(now) {
        return Err(("slashing", 3));
    }
    let epoch = height / BLOCKS_PER_EPOCH;
    let mut parts = Vec::new();
    for denom in strategies {
        let mut v = view_at(s, op, denom, now).await;
        let mut a = v.get(avs, set);
        let taken = mul_div_up(a.magnitude, wad, WAD).unwrap().min(a.magnitude);
        if taken == 0 {
            continue;
        }
        let used = s.epoch_slashed(op, denom).await.unwrap();
        let used = if used.epoch == epoch { used.magnitude } else { 0 };
        if used + taken > EPOCH_CAP {
            return Err(("slashing", 8));
        }
        a.magnitude -= taken;
        a.pending_decrease -= mul_div_up(a.pending_decrease, wad, WAD).unwrap().min(a.pending_decrease);
        if !a.has_pending() {
            a.effective_at = 0;
        }
        v.put(avs, set, a);
        v.encumbered = v.encumbered.saturating_sub(taken);
        let old = v.max;
        v.max = old - taken.min(old);
        let tokens = slashed_tokens(s, op, denom, old, v.max).await;
        parts.push(SlashPart { denom: denom.to_string(), magnitude: taken, tokens, after: v });
    }
    if parts.is_empty() {
        return Err(("slashing", 6));
    }
    Ok(parts)
}

/// A provider slash of `fraction` of `op`'s whole native stake, applied at
/// the start of a block (before the block's allocation changes mature):
/// every allocation piece and the unallocated rest lose the fraction,
/// rounded up. Returns the view after the block and the tokens burned.
async fn predict_native_slash(s: &Snapshot, op: &Address, fraction: u128, now: i64) -> (View, u128) {
    let mut v = raw_view(s, op, NATIVE_DENOM).await;
    let up = |x: u128| mul_div_up(x, fraction, WAD).unwrap().min(x);
    let old = v.max;
    let mut removed = up(old.saturating_sub(v.encumbered));
    for (_, _, a) in v.allocations.iter_mut() {
        let (c, i, d) = (up(a.magnitude), up(a.pending_increase), up(a.pending_decrease));
        a.magnitude -= c;
        a.pending_increase -= i;
        a.pending_decrease -= d;
        if !a.has_pending() {
            a.effective_at = 0;
        }
        removed += c + i;
        v.encumbered = v.encumbered.saturating_sub(c + i);
    }
    v.allocations.retain(|(_, _, a)| *a != Allocation::default());
    v.max = old - removed.min(old);
    let tokens = slashed_tokens(s, op, NATIVE_DENOM, old, v.max).await;
    v.mature(now);
    (v, tokens)
}

/// What one epoch of `sub` pays (`amount` to share): each registered
/// operator's weight is the tokens of its allocated stake times the
/// strategy's multiplier, summed over the rewarded strategies; each gets
/// its share of `amount` rounded down.
async fn predict_paid(s: &Snapshot, sub: &Submission, amount: u128) -> u128 {
    if amount == 0 {
        return 0;
    }
    let mut weights = Vec::new();
    for op in s.set_members(sub.avs_id, sub.set_id).await.unwrap() {
        let mut w = 0u128;
        for (denom, mult) in &sub.strategies {
            let a = s.allocation(&op, denom, sub.avs_id, sub.set_id).await.unwrap();
            let total_scaled = s.operator_stake(&op, denom).await.unwrap().total_scaled;
            let shares = mul_div_down(total_scaled, a.magnitude, WAD).unwrap();
            let strategy = s.strategy(denom).await.unwrap().expect("strategy");
            w += strategy.tokens_for_shares(shares, s.pool_tokens(denom).await.unwrap()).unwrap() * *mult as u128;
        }
        weights.push(w);
    }
    let total: u128 = weights.iter().sum();
    if total == 0 {
        return 0;
    }
    weights.iter().map(|w| mul_div_down(amount, *w, total).unwrap()).sum()
}

struct World {
    chain: TestChain,
    ops: Vec<Signer>,
    stakers: Vec<Signer>,
    /// Owners of AVS 1 and 2, and slashers of their sets.
    owners: Vec<Signer>,
    vetoers: Vec<Signer>,
    recipient: Address,
    /// Whether AVS 1 pays slashed tokens to `recipient` (else it burns).
    redistributing: bool,
    /// Per operator, its allocation delay changes (delay, effective at);
    /// a change replaces one not yet in effect.
    delays: Vec<Vec<(u64, i64)>>,
    supply0: BTreeMap<String, u128>,
    minted: u128,
    burned: BTreeMap<String, u128>,
    redistributed: BTreeMap<String, u128>,
    /// Owners only submit rewards and receive refunds: exact balances.
    owner_balances: Vec<BTreeMap<String, u128>>,
    next_slash_id: u64,
    next_submission_id: u64,
    slash_ids: Vec<u64>,
    /// Evidence refs taken, per AVS.
    evidence: [Vec<String>; 2],
    evidence_count: u64,
}

fn genesis(ops: &[Signer], stakers: &[Signer], owners: &[Signer], vetoers: &[Signer]) -> aegis_app::AppGenesis {
    let funded: Vec<_> = ops
        .iter()
        .chain(stakers)
        .chain(owners)
        .chain(vetoers)
        .map(|s| (s.address, vec![Coin::new(LST, FUNDS), Coin::new(NATIVE_DENOM, FUNDS)]))
        .collect();
    let mut g = genesis_with(&funded);
    g.restaking = RestakingGenesis {
        params: RestakingParams { withdrawal_delay_seconds: WITHDRAWAL_DELAY, authority: owners[0].address },
        strategies: vec![GenesisStrategy { denom: LST.into(), deposit_cap: None }],
    };
    let b64 = |k: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(k);
    g.delegation = DelegationGenesis {
        params: DelegationParams { blocks_per_epoch: BLOCKS_PER_EPOCH, max_validators: 3, power_reduction: 1_000_000 },
        operators: ops
            .iter()
            .enumerate()
            .map(|(i, o)| GenesisOperator {
                address: o.address.to_string(),
                commission_rate_bps: 1000,
                max_commission_rate_bps: 2000,
                consensus_pubkey: b64(consensus_key(i)),
                self_delegation: format!("{}uaegis", SELF_DELEGATION + i as u128 * 1_000_000_000),
                ..Default::default()
            })
            .collect(),
        delegations: vec![
            GenesisDelegation { staker: stakers[0].address.to_string(), operator: ops[0].address.to_string(), amount: "5000000000uaegis".into() },
            GenesisDelegation { staker: stakers[1].address.to_string(), operator: ops[1].address.to_string(), amount: format!("3000000000{LST}") },
        ],
    };
    g.rewards = RewardsGenesis { params: RewardsParams { inflation_rate_bps: 700, blocks_per_year: 100_000 } };
    g.avs = AvsGenesis {
        params: AvsParams {
            default_allocation_delay_seconds: ALLOCATION_DELAY,
            deallocation_delay_seconds: DEALLOCATION_DELAY,
            allocation_configuration_delay_seconds: CONFIGURATION_DELAY,
            max_strategies_per_set: 16,
        },
    };
    g.slashing = SlashingGenesis {
        params: SlashingParams {
            signed_blocks_window: 4,
            min_signed_per_window: WAD / 2,
            downtime_jail_duration_seconds: JAIL,
            slash_fraction_double_sign: DOUBLE_SIGN,
            slash_fraction_downtime: DOWNTIME,
            max_slash_per_epoch: EPOCH_CAP,
        },
    };
    g
}

impl World {
    async fn new() -> World {
        let ops: Vec<Signer> = (0..OPS).map(|i| test_signer(&format!("avsprop-op{i}"))).collect();
        let stakers: Vec<Signer> = (0..3).map(|i| test_signer(&format!("avsprop-staker{i}"))).collect();
        let owners: Vec<Signer> = (0..2).map(|i| test_signer(&format!("avsprop-owner{i}"))).collect();
        let vetoers: Vec<Signer> = (0..2).map(|i| test_signer(&format!("avsprop-veto{i}"))).collect();
        let chain = TestChain::new(&genesis(&ops, &stakers, &owners, &vetoers)).await;
        let mut supply0 = BTreeMap::new();
        for d in DENOMS {
            supply0.insert(d.to_string(), chain.supply(d).await);
        }
        let owner_balances = (0..2).map(|_| DENOMS.iter().map(|d| (d.to_string(), FUNDS)).collect()).collect();
        let mut w = World {
            chain,
            ops,
            stakers,
            owners,
            vetoers,
            recipient: test_signer("avsprop-recipient").address,
            redistributing: true,
            delays: vec![Vec::new(); OPS],
            supply0,
            minted: 0,
            burned: BTreeMap::new(),
            redistributed: BTreeMap::new(),
            owner_balances,
            next_slash_id: 1,
            next_submission_id: 1,
            slash_ids: Vec::new(),
            evidence: [Vec::new(), Vec::new()],
            evidence_count: 0,
        };
        w.setup().await;
        w
    }

    /// Two AVSs with their four sets; operators 0 and 1 registered for all
    /// four and operator 2 for AVS 1's two, with matured allocations.
    async fn setup(&mut self) {
        let (a, b) = (self.owners[0].address, self.owners[1].address);
        let reg_a = pack("/aegis.avs.v1.MsgRegisterAvs", &apb::MsgRegisterAvs { owner: a.to_string(), metadata_uri: "a".into(), redistribution_recipient: self.recipient.to_string() });
        self.ok(0, Who::Owner, vec![reg_a]).await;
        let reg_b = pack("/aegis.avs.v1.MsgRegisterAvs", &apb::MsgRegisterAvs { owner: b.to_string(), metadata_uri: "b".into(), redistribution_recipient: String::new() });
        self.ok(1, Who::Owner, vec![reg_b]).await;
        for def in &SETS {
            let committee = if def.veto_threshold > 0 { self.vetoers.iter().map(|v| v.address.to_string()).collect() } else { vec![] };
            let allowlist = if def.allowlist { self.ops[..2].iter().map(|o| o.address.to_string()).collect() } else { vec![] };
            let owner = self.owners[def.owner].address.to_string();
            let m = apb::MsgCreateOperatorSet {
                owner: owner.clone(),
                avs_id: def.avs,
                operator_set_id: def.id,
                strategies: def.strategies.iter().map(|s| s.to_string()).collect(),
                slasher: owner,
                veto_committee: committee,
                veto_threshold: def.veto_threshold,
                veto_window_seconds: if def.veto_threshold > 0 { VETO_WINDOW } else { 0 },
                allowlist,
            };
            self.ok(def.owner, Who::Owner, vec![pack("/aegis.avs.v1.MsgCreateOperatorSet", &m)]).await;
        }
        for (op, set) in [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1)] {
            let m = self.register_msg(op, set);
            self.ok(op, Who::Op, vec![m]).await;
        }
        // (operator, set, strategy, magnitude)
        let plan = [
            (0, 0, NATIVE_DENOM, WAD / 4),
            (0, 0, LST, WAD / 4),
            (0, 1, NATIVE_DENOM, WAD / 5),
            (0, 2, NATIVE_DENOM, WAD / 4),
            (0, 3, LST, WAD / 3),
            (1, 0, NATIVE_DENOM, WAD / 5),
            (1, 1, NATIVE_DENOM, WAD / 10),
            (1, 2, LST, WAD / 3),
            (1, 2, NATIVE_DENOM, WAD / 4),
            (2, 0, NATIVE_DENOM, WAD / 4),
            (2, 1, NATIVE_DENOM, WAD / 2),
            (2, 0, LST, WAD / 2),
        ];
        for op in 0..OPS {
            let entries: Vec<_> = plan.iter().filter(|p| p.0 == op).map(|(_, set, denom, m)| (*set, *denom, *m)).collect();
            let m = self.allocate_msg(op, &entries);
            self.ok(op, Who::Op, vec![m]).await;
        }
        for op in [0, 2] {
            let dep = pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: self.ops[op].address.to_string(), amount: Some(coin(LST, 2_000_000_000)) });
            self.ok(op, Who::Op, vec![dep]).await;
        }
        self.chain.skip_time(ALLOCATION_DELAY as i64);
        self.block(vec![], vec![], vec![], vec![]).await;
        self.check_accounts().await;
    }

    fn signer(&self, i: usize, who: Who) -> &Signer {
        match who {
            Who::Op => &self.ops[i],
            Who::Staker => &self.stakers[i],
            Who::Owner => &self.owners[i],
            Who::Vetoer => &self.vetoers[i],
        }
    }

    /// Operators 0..3, then stakers.
    fn holder(&self, who: usize) -> &Signer {
        if who < OPS {
            &self.ops[who]
        } else {
            &self.stakers[who - OPS]
        }
    }

    /// The next block's time and height.
    fn now(&self) -> i64 {
        self.chain.time + 5
    }

    fn height(&self) -> u64 {
        self.chain.height + 1
    }

    fn register_msg(&self, op: usize, set: usize) -> cosmrs::Any {
        let m = apb::MsgRegisterForOperatorSet { operator: self.ops[op].address.to_string(), avs_id: SETS[set].avs, operator_set_id: SETS[set].id };
        pack("/aegis.avs.v1.MsgRegisterForOperatorSet", &m)
    }

    fn allocate_msg(&self, op: usize, entries: &[(usize, &str, u128)]) -> cosmrs::Any {
        let allocations = entries
            .iter()
            .map(|(set, denom, m)| apb::AllocateParams { avs_id: SETS[*set].avs, operator_set_id: SETS[*set].id, strategy: denom.to_string(), magnitude: m.to_string() })
            .collect();
        pack("/aegis.avs.v1.MsgModifyAllocations", &apb::MsgModifyAllocations { operator: self.ops[op].address.to_string(), allocations })
    }

    async fn tx(&mut self, i: usize, who: Who, msgs: Vec<cosmrs::Any>) -> TxOutcome {
        self.tx_with(i, who, msgs, vec![]).await
    }

    /// One block holding one transaction; `hints` are the reward
    /// submissions it is expected to create.
    async fn tx_with(&mut self, i: usize, who: Who, msgs: Vec<cosmrs::Any>, hints: Vec<Submission>) -> TxOutcome {
        let tx = self.chain.sign(self.signer(i, who), msgs).await;
        self.block(vec![tx], vec![], vec![], hints).await.tx_results.remove(0)
    }

    async fn ok(&mut self, i: usize, who: Who, msgs: Vec<cosmrs::Any>) -> TxOutcome {
        let out = self.tx(i, who, msgs).await;
        assert!(out.result.is_ok(), "{:?}", out.result);
        out
    }

    /// Run one block, checking and booking what it did at block level
    /// (provisions, provider slashes, AVS reward rounds).
    async fn block(&mut self, txs: Vec<Vec<u8>>, votes: Vec<CommitVote>, misbehavior: Vec<Misbehavior>, hints: Vec<Submission>) -> BlockOutput {
        let pre = self.chain.storage().latest_snapshot();
        let (now, height) = (self.now(), self.height());
        let mut due: BTreeMap<u64, Submission> = pre.submissions().await.unwrap().into_iter().map(|s| (s.id, s)).collect();
        due.extend(hints.into_iter().map(|s| (s.id, s)));
        let out = self.chain.block_with(txs, votes, misbehavior).await;
        let post = self.chain.storage().latest_snapshot();
        let mut rounds = BTreeSet::new();
        for ev in &out.events {
            match ev.kind.as_str() {
                "rewards" => self.minted += attr(ev, "provision").parse::<u128>().unwrap(),
                "slash" => {
                    let reason = attr(ev, "reason");
                    let fraction = match reason {
                        "double_sign" => DOUBLE_SIGN,
                        "downtime" => DOWNTIME,
                        other => panic!("block-level slash for {other}"),
                    };
                    let op = Address::parse(attr(ev, "operator")).unwrap();
                    let (want, tokens) = predict_native_slash(&pre, &op, fraction, now).await;
                    assert_eq!(amount_of(attr(ev, "tokens"), NATIVE_DENOM), tokens, "{reason} slash of {op}: tokens");
                    assert_eq!(raw_view(&post, &op, NATIVE_DENOM).await, want, "{reason} slash of {op}");
                    *self.burned.entry(NATIVE_DENOM.into()).or_default() += tokens;
                }
                "avs_rewards" => {
                    let id: u64 = attr(ev, "submission_id").parse().unwrap();
                    let sub = due.get(&id).unwrap_or_else(|| panic!("reward round for unknown submission {id}")).clone();
                    let paid = amount_of(attr(ev, "paid"), &sub.denom);
                    let amount = if sub.remaining_epochs <= 1 { sub.remaining } else { sub.remaining / sub.remaining_epochs as u128 };
                    assert_eq!(paid, predict_paid(&post, &sub, amount).await, "submission {id} paid at height {height}");
                    let after = post.submission(id).await.unwrap();
                    if sub.remaining_epochs <= 1 {
                        assert!(after.is_none(), "submission {id} outlived its last epoch");
                        let owner = self.owners.iter().position(|o| o.address == sub.submitter).unwrap();
                        *self.owner_balances[owner].get_mut(&sub.denom).unwrap() += sub.remaining - paid;
                    } else {
                        let after = after.expect("submission still paying");
                        assert_eq!((after.remaining, after.remaining_epochs), (sub.remaining - paid, sub.remaining_epochs - 1));
                    }
                    rounds.insert(id);
                }
                _ => {}
            }
        }
        let want: BTreeSet<u64> = if height.is_multiple_of(BLOCKS_PER_EPOCH) { due.keys().copied().collect() } else { BTreeSet::new() };
        assert_eq!(rounds, want, "reward rounds at height {height}");
        out
    }

    /// After each step: supply, the recipient's and owners' balances and
    /// the escrow against the books; no allocation change overdue.
    async fn check_accounts(&self) {
        let s = &self.chain.storage().latest_snapshot();
        let now = self.chain.time;
        for d in DENOMS {
            let minted = if d == NATIVE_DENOM { self.minted } else { 0 };
            let burned = self.burned.get(d).copied().unwrap_or(0);
            assert_eq!(self.chain.supply(d).await, self.supply0[d] + minted - burned, "{d} supply");
            assert_eq!(self.chain.balance(&self.recipient, d).await, self.redistributed.get(d).copied().unwrap_or(0), "redistributed {d}");
            for (i, o) in self.owners.iter().enumerate() {
                assert_eq!(self.chain.balance(&o.address, d).await, self.owner_balances[i][d], "owner {i} {d}");
            }
            let owed: u128 = s.submissions().await.unwrap().iter().filter(|x| x.denom == d).map(|x| x.remaining).sum();
            assert_eq!(self.chain.balance(&Address::module(AVS_REWARDS_ESCROW), d).await, owed, "{d} escrow");
            for op in &self.ops {
                for (avs, set, a) in s.allocations_in(&op.address, d).await.unwrap() {
                    assert!(!a.has_pending() || a.effective_at > now, "{op:?} {d} {avs}/{set}: {a:?} still pending at {now}");
                }
            }
        }
    }

    async fn views(&self, s: &Snapshot, op: usize, now: Option<i64>) -> Vec<View> {
        let mut out = Vec::new();
        for d in DENOMS {
            out.push(match now {
                Some(t) => view_at(s, &self.ops[op].address, d, t).await,
                None => raw_view(s, &self.ops[op].address, d).await,
            });
        }
        out
    }

    async fn run(&mut self, step: Step) {
        let pre = self.chain.storage().latest_snapshot();
        let (now, height) = (self.now(), self.height());
        match step {
            Step::Register { op, set } => {
                let def = &SETS[set];
                let addr = self.ops[op].address;
                let reg = pre.registration(&addr, def.avs, def.id).await.unwrap();
                let members = pre.operator_set(def.avs, def.id).await.unwrap().unwrap().member_count;
                let want = if def.allowlist && op >= 2 {
                    ("avs", 7)
                } else if reg.registered {
                    ("avs", 8)
                } else {
                    ("", 0)
                };
                let m = self.register_msg(op, set);
                let out = self.tx(op, Who::Op, vec![m]).await;
                assert_eq!(code(&out), want, "{:?}", out.result);
                let post = self.chain.storage().latest_snapshot();
                let after = post.registration(&addr, def.avs, def.id).await.unwrap();
                let members_after = post.operator_set(def.avs, def.id).await.unwrap().unwrap().member_count;
                if want.1 == 0 {
                    assert!(after.registered);
                    assert_eq!(members_after, members + 1);
                    assert!(post.set_members(def.avs, def.id).await.unwrap().contains(&addr));
                } else {
                    assert_eq!((after, members_after), (reg, members));
                }
            }
            Step::Deregister { op, set } => {
                let def = &SETS[set];
                let addr = self.ops[op].address;
                let reg = pre.registration(&addr, def.avs, def.id).await.unwrap();
                let m = apb::MsgDeregisterFromOperatorSet { operator: addr.to_string(), avs_id: def.avs, operator_set_id: def.id };
                let out = self.tx(op, Who::Op, vec![pack("/aegis.avs.v1.MsgDeregisterFromOperatorSet", &m)]).await;
                let post = self.chain.storage().latest_snapshot();
                let after = post.registration(&addr, def.avs, def.id).await.unwrap();
                if reg.registered {
                    assert_eq!(code(&out), ("", 0), "{:?}", out.result);
                    let until = now + DEALLOCATION_DELAY as i64;
                    assert_eq!(response::<apb::MsgDeregisterFromOperatorSetResponse>(&out).slashable_until, until);
                    assert_eq!((after.registered, after.slashable_until), (false, until));
                    assert!(!post.set_members(def.avs, def.id).await.unwrap().contains(&addr));
                } else {
                    assert_eq!(code(&out), ("avs", 9), "{:?}", out.result);
                    assert_eq!(after, reg);
                }
            }
            Step::Allocate { op, entries } => self.allocate(&pre, op, entries, now).await,
            Step::SetDelay { op, zero } => {
                let delay = if zero { 0 } else { ALLOCATION_DELAY };
                let m = apb::MsgSetAllocationDelay { operator: self.ops[op].address.to_string(), delay_seconds: delay };
                let out = self.ok(op, Who::Op, vec![pack("/aegis.avs.v1.MsgSetAllocationDelay", &m)]).await;
                let at = now + CONFIGURATION_DELAY as i64;
                assert_eq!(response::<apb::MsgSetAllocationDelayResponse>(&out).effective_at, at);
                self.delays[op].retain(|(_, t)| *t <= now);
                self.delays[op].push((delay, at));
            }
            Step::Slash(step) => self.slash(&pre, step, now, height).await,
            Step::Veto { pick, member } => self.veto(&pre, pick, member, now).await,
            Step::Execute { pick } => self.execute(&pre, pick, now, height).await,
            Step::Deposit { who, denom, amount } => {
                let s = self.holder(who).address;
                let m = pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: s.to_string(), amount: Some(coin(DENOMS[denom], amount)) });
                self.holder_tx(who, m).await;
            }
            Step::Delegate { who, op } => {
                let m = dpb::MsgDelegate { staker: self.stakers[who].address.to_string(), operator: self.ops[op].address.to_string() };
                self.tx(who, Who::Staker, vec![pack("/aegis.delegation.v1.MsgDelegate", &m)]).await;
            }
            Step::Undelegate { who } => {
                let m = dpb::MsgUndelegate { staker: self.stakers[who].address.to_string() };
                self.tx(who, Who::Staker, vec![pack("/aegis.delegation.v1.MsgUndelegate", &m)]).await;
            }
            Step::Redelegate { who, op } => {
                let m = dpb::MsgRedelegate { staker: self.stakers[who].address.to_string(), new_operator: self.ops[op].address.to_string() };
                self.tx(who, Who::Staker, vec![pack("/aegis.delegation.v1.MsgRedelegate", &m)]).await;
            }
            Step::SetRecipient { burn } => {
                let to = if burn { String::new() } else { self.recipient.to_string() };
                let m = apb::MsgUpdateAvs { owner: self.owners[0].address.to_string(), avs_id: 1, metadata_uri: None, redistribution_recipient: Some(to), new_owner: None };
                self.ok(0, Who::Owner, vec![pack("/aegis.avs.v1.MsgUpdateAvs", &m)]).await;
                self.redistributing = !burn;
            }
            Step::SetCommission { op, avs, bps } => {
                let m = wpb::MsgSetAvsCommission { operator: self.ops[op].address.to_string(), avs_id: avs, commission_bps: bps };
                let out = self.tx(op, Who::Op, vec![pack("/aegis.rewards.v1.MsgSetAvsCommission", &m)]).await;
                assert_eq!(code(&out), if bps > 2000 { ("rewards", 7) } else { ("", 0) }, "{:?}", out.result);
            }
            Step::Queue { who, denom, percent } => {
                let s = self.holder(who).address;
                let have = pre.staker_deposit(&s, DENOMS[denom]).await.unwrap().deposit_shares;
                let shares = have / 100 * percent;
                let m = rpb::MsgQueueWithdrawal { staker: s.to_string(), withdrawals: vec![rpb::WithdrawalRequest { denom: DENOMS[denom].into(), shares: shares.to_string() }] };
                self.holder_tx(who, pack("/aegis.restaking.v1.MsgQueueWithdrawal", &m)).await;
            }
            Step::Complete { who, as_tokens } => {
                let s = self.holder(who).address;
                if let Some(id) = pre.staker_withdrawal_ids(&s).await.unwrap().first() {
                    let m = rpb::MsgCompleteWithdrawal { staker: s.to_string(), withdrawal_id: *id, receive_as_tokens: as_tokens };
                    self.holder_tx(who, pack("/aegis.restaking.v1.MsgCompleteWithdrawal", &m)).await;
                }
            }
            Step::Wait { seconds } => {
                self.chain.skip_time(seconds);
                self.block(vec![], vec![], vec![], vec![]).await;
            }
            Step::DoubleSign { op } => {
                let addr = self.ops[op].address;
                let before = pre.operator(&addr).await.unwrap().unwrap();
                let evidence = Misbehavior { address: consensus_address(op), height: self.chain.height.max(1), kind: "duplicate_vote".into() };
                let out = self.block(vec![], vec![], vec![evidence], vec![]).await;
                let slashes = out.events.iter().filter(|e| e.kind == "slash").count();
                assert_eq!(slashes, usize::from(!before.tombstoned), "double-sign slashes of operator {op}");
                let after = self.chain.storage().latest_snapshot().operator(&addr).await.unwrap().unwrap();
                assert!(after.tombstoned && after.jailed);
                let set = self.chain.storage().latest_snapshot().validator_set().await.unwrap();
                assert!(set.validators.len() == 1 || set.validators.iter().all(|v| v.operator != addr), "tombstoned operator {op} still validates");
            }
            Step::Downtime { op } => {
                let votes: Vec<CommitVote> = (0..OPS).map(|i| CommitVote { address: consensus_address(i), signed: i != op, power: 10 }).collect();
                let addr = self.ops[op].address;
                let o = pre.operator(&addr).await.unwrap().unwrap();
                let rounds = if o.jailed || o.tombstoned { 1 } else { 8 };
                let mut jailed = false;
                for _ in 0..rounds {
                    let out = self.block(vec![], votes.clone(), vec![], vec![]).await;
                    if out.events.iter().any(|e| e.kind == "slash") {
                        jailed = true;
                        break;
                    }
                }
                let after = self.chain.storage().latest_snapshot().operator(&addr).await.unwrap().unwrap();
                assert!(after.jailed, "operator {op} missed every block and is not jailed");
                assert_eq!(jailed, !(o.jailed || o.tombstoned));
            }
            Step::Unjail { op } => {
                let addr = self.ops[op].address;
                let o = pre.operator(&addr).await.unwrap().unwrap();
                let until = pre.signing_info(&o.consensus_address().unwrap()).await.unwrap().map_or(0, |i| i.jailed_until);
                let want = if o.tombstoned {
                    ("slashing", 15)
                } else if !o.jailed {
                    ("slashing", 14)
                } else if now < until {
                    ("slashing", 16)
                } else {
                    ("", 0)
                };
                let m = spb::MsgUnjail { operator: addr.to_string() };
                let out = self.tx(op, Who::Op, vec![pack("/aegis.slashing.v1.MsgUnjail", &m)]).await;
                assert_eq!(code(&out), want, "{:?}", out.result);
                let after = self.chain.storage().latest_snapshot().operator(&addr).await.unwrap().unwrap();
                assert_eq!(after.jailed, o.jailed && want.1 != 0);
            }
            Step::Submit { set, denom, amount, epochs, multipliers } => {
                let def = &SETS[set];
                let denom = DENOMS[denom];
                let given: Vec<(String, u64)> = match multipliers {
                    Some((m0, m1)) => def.strategies.iter().zip([m0, m1]).map(|(s, m)| (s.to_string(), m)).collect(),
                    None => vec![],
                };
                let strategies = if given.is_empty() { def.strategies.iter().map(|s| (s.to_string(), 1)).collect() } else { given.clone() };
                let count = pre.set_submission_count(def.avs, def.id).await.unwrap();
                let owner = self.owners[def.owner].address;
                let m = wpb::MsgSubmitAvsRewards {
                    owner: owner.to_string(),
                    avs_id: def.avs,
                    operator_set_id: def.id,
                    amount: Some(coin(denom, amount)),
                    epochs,
                    strategies: given.iter().map(|(s, m)| wpb::StrategyMultiplier { strategy: s.clone(), multiplier: *m }).collect(),
                };
                let sub = Submission { id: self.next_submission_id, avs_id: def.avs, set_id: def.id, submitter: owner, denom: denom.into(), remaining: amount, remaining_epochs: epochs, strategies };
                let full = count >= aegis_app::rewards::msgs::MAX_SUBMISSIONS_PER_SET;
                if !full {
                    // Debited in the transaction; a refund at this block's
                    // epoch end is credited by `block`.
                    *self.owner_balances[def.owner].get_mut(denom).unwrap() -= amount;
                }
                let hints = if full { vec![] } else { vec![sub] };
                let out = self.tx_with(def.owner, Who::Owner, vec![pack("/aegis.rewards.v1.MsgSubmitAvsRewards", &m)], hints).await;
                if full {
                    assert_eq!(code(&out), ("rewards", 6), "{:?}", out.result);
                } else {
                    assert_eq!(code(&out), ("", 0), "{:?}", out.result);
                    assert_eq!(response::<wpb::MsgSubmitAvsRewardsResponse>(&out).submission_id, self.next_submission_id);
                    self.next_submission_id += 1;
                }
            }
            Step::Claim { who } => {
                let m = wpb::MsgClaimRewards { claimer: self.holder(who).address.to_string() };
                self.holder_tx(who, pack("/aegis.rewards.v1.MsgClaimRewards", &m)).await;
            }
        }
        self.check_accounts().await;
    }

    async fn holder_tx(&mut self, who: usize, m: cosmrs::Any) -> TxOutcome {
        if who < OPS {
            self.tx(who, Who::Op, vec![m]).await
        } else {
            self.tx(who - OPS, Who::Staker, vec![m]).await
        }
    }

    /// The rules of MsgModifyAllocations, entry by entry, on the views the
    /// transaction will see; then the message, and the views it left.
    async fn allocate(&mut self, pre: &Snapshot, op: usize, entries: Vec<(usize, usize, Target)>, now: i64) {
        let addr = self.ops[op].address;
        let before = self.views(pre, op, Some(now)).await;
        let mut views = before.clone();
        let delay = self.delays[op].iter().rev().find(|(_, at)| *at <= now).map_or(ALLOCATION_DELAY, |(d, _)| *d) as i64;
        let mut want: Code = ("", 0);
        let mut seen = BTreeSet::new();
        if !entries.iter().all(|(set, d, _)| seen.insert((*set, *d))) {
            want = ("avs", 15);
        }
        let mut msg = Vec::new();
        for (set, d, target) in &entries {
            let def = &SETS[*set];
            let denom = DENOMS[*d];
            let v = &mut views[*d];
            let mut a = v.get(def.avs, def.id);
            let magnitude = match target {
                Target::Percent(p) => WAD / 100 * p,
                Target::AllAvailable => a.magnitude + v.available(),
                Target::AboveAvailable(extra) => (a.magnitude + v.available() + extra).min(WAD),
            };
            msg.push((*set, denom, magnitude));
            if want.1 != 0 {
                continue;
            }
            let reg = pre.registration(&addr, def.avs, def.id).await.unwrap();
            want = if !def.strategies.contains(&denom) {
                ("avs", 10)
            } else if a.has_pending() {
                ("avs", 13)
            } else if magnitude == a.magnitude {
                ("avs", 14)
            } else if magnitude > a.magnitude && !reg.registered {
                ("avs", 9)
            } else if magnitude > a.magnitude && magnitude - a.magnitude > v.available() {
                ("avs", 12)
            } else {
                ("", 0)
            };
            if want.1 != 0 {
                continue;
            }
            if magnitude > a.magnitude {
                let delta = magnitude - a.magnitude;
                v.encumbered += delta;
                if delay == 0 {
                    a.magnitude = magnitude;
                } else {
                    a.pending_increase = delta;
                    a.effective_at = now + delay;
                }
            } else {
                let delta = a.magnitude - magnitude;
                if reg.slashable(now) {
                    a.pending_decrease = delta;
                    a.effective_at = now + DEALLOCATION_DELAY as i64;
                } else {
                    a.magnitude = magnitude;
                    v.encumbered -= delta;
                }
            }
            v.put(def.avs, def.id, a);
        }
        let m = self.allocate_msg(op, &msg);
        let out = self.tx(op, Who::Op, vec![m]).await;
        assert_eq!(code(&out), want, "allocate {msg:?}: {:?}", out.result);
        let post = self.chain.storage().latest_snapshot();
        let after = self.views(&post, op, None).await;
        if want.1 == 0 {
            assert_eq!(after, views, "allocate {msg:?}");
        } else {
            assert_eq!(after, before, "refused allocate {msg:?} changed state");
        }
    }

    async fn slash(&mut self, pre: &Snapshot, step: SlashStep, now: i64, height: u64) {
        let SlashStep { op, set, mask, foreign, wad, wrong_slasher, reuse } = step;
        let def = &SETS[set];
        let addr = self.ops[op].address;
        let mut strategies: Vec<&str> = def.strategies.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, d)| *d).collect();
        if strategies.is_empty() {
            strategies = def.strategies.to_vec();
        }
        if foreign {
            strategies.extend(DENOMS.iter().filter(|d| !def.strategies.contains(d)));
        }
        let used = self.evidence[def.avs as usize - 1].clone();
        let evidence_ref = match reuse {
            Some(i) if !used.is_empty() => used[i % used.len()].clone(),
            _ => {
                self.evidence_count += 1;
                format!("evidence-{}", self.evidence_count)
            }
        };
        let reused = used.contains(&evidence_ref);
        let before = self.views(pre, op, Some(now)).await;
        enum Want {
            Refused(Code),
            Applied(Vec<SlashPart>),
            Pending(u64),
        }
        let want = if wrong_slasher {
            Want::Refused(("slashing", 2))
        } else if strategies.iter().any(|d| !def.strategies.contains(d)) {
            Want::Refused(("avs", 10))
        } else if reused {
            Want::Refused(("slashing", 7))
        } else if !pre.registration(&addr, def.avs, def.id).await.unwrap().slashable(now) {
            Want::Refused(("slashing", 3))
        } else if def.veto_threshold == 0 {
            match predict_avs_slash(pre, &addr, (def.avs, def.id), &strategies, wad, now, height).await {
                Ok(parts) => Want::Applied(parts),
                Err(c) => Want::Refused(c),
            }
        } else if strategies.iter().all(|d| before[DENOMS.iter().position(|x| x == d).unwrap()].get(def.avs, def.id).magnitude == 0) {
            Want::Refused(("slashing", 6))
        } else {
            Want::Pending(self.next_slash_id)
        };
        let (signer, who) = if wrong_slasher { (0, Who::Staker) } else { (def.owner, Who::Owner) };
        let m = spb::MsgSlashOperator {
            slasher: self.signer(signer, who).address.to_string(),
            operator: addr.to_string(),
            avs_id: def.avs,
            operator_set_id: def.id,
            strategies: strategies.iter().map(|s| s.to_string()).collect(),
            wad_to_slash: wad.to_string(),
            description: "double signed on the AVS".into(),
            evidence_ref: evidence_ref.clone(),
        };
        let out = self.tx(signer, who, vec![pack("/aegis.slashing.v1.MsgSlashOperator", &m)]).await;
        let post = self.chain.storage().latest_snapshot();
        let after = self.views(&post, op, None).await;
        let what = format!("slash {wad} of operator {op} in {}/{} {strategies:?}", def.avs, def.id);
        match want {
            Want::Refused(c) => {
                assert_eq!(code(&out), c, "{what}: {:?}", out.result);
                assert_eq!(after, before, "refused {what} changed state");
            }
            Want::Applied(parts) => {
                assert_eq!(code(&out), ("", 0), "{what}: {:?}", out.result);
                let r: spb::MsgSlashOperatorResponse = response(&out);
                self.account_slash(def.avs, &r.slashed, &parts, &what);
                let mut want_views = before.clone();
                for p in parts {
                    want_views[DENOMS.iter().position(|d| *d == p.denom).unwrap()] = p.after;
                }
                assert_eq!(after, want_views, "{what}");
                self.evidence[def.avs as usize - 1].push(evidence_ref);
            }
            Want::Pending(id) => {
                assert_eq!(code(&out), ("", 0), "{what}: {:?}", out.result);
                let r: spb::MsgSlashOperatorResponse = response(&out);
                assert_eq!((r.pending_slash_id, r.executable_at), (id, now + VETO_WINDOW as i64), "{what}");
                assert_eq!(after, before, "{what} changed state before its veto window");
                self.next_slash_id += 1;
                self.slash_ids.push(id);
                self.evidence[def.avs as usize - 1].push(evidence_ref);
            }
        }
    }

    /// Check a slash's reported amounts against the prediction and book the
    /// tokens: AVS 1 redistributes (unless switched to burning), AVS 2 burns.
    fn account_slash(&mut self, avs: u64, got: &[spb::SlashedAmount], parts: &[SlashPart], what: &str) {
        let got: Vec<(String, String, String)> = got.iter().map(|s| (s.strategy.clone(), s.magnitude.clone(), s.tokens.clone())).collect();
        let want: Vec<(String, String, String)> = parts.iter().map(|p| (p.denom.clone(), p.magnitude.to_string(), p.tokens.to_string())).collect();
        assert_eq!(got, want, "{what}: slashed amounts");
        for p in parts {
            let book = if avs == 1 && self.redistributing { &mut self.redistributed } else { &mut self.burned };
            *book.entry(p.denom.clone()).or_default() += p.tokens;
        }
    }

    async fn veto(&mut self, pre: &Snapshot, pick: usize, member: usize, now: i64) {
        // Most recent first: those are the ones still in their window.
        let id = if self.slash_ids.is_empty() { 999 } else { self.slash_ids[self.slash_ids.len() - 1 - pick % self.slash_ids.len()] };
        let (i, who) = if member < 2 { (member, Who::Vetoer) } else { (1, Who::Staker) };
        let signer = self.signer(i, who).address;
        let record = pre.avs_slash(id).await.unwrap();
        let p = pre.pending_slash(id).await.unwrap();
        let want = match &p {
            None if record.is_none() => ("slashing", 9),
            None => ("slashing", 19),
            Some(_) if member >= 2 => ("slashing", 10),
            Some(p) if now >= p.executable_at => ("slashing", 11),
            Some(p) if p.vetoes.contains(&signer) => ("slashing", 12),
            Some(_) => ("", 0),
        };
        let m = spb::MsgVetoSlash { member: signer.to_string(), slash_id: id };
        let out = self.tx(i, who, vec![pack("/aegis.slashing.v1.MsgVetoSlash", &m)]).await;
        assert_eq!(code(&out), want, "veto of {id}: {:?}", out.result);
        let after = self.chain.storage().latest_snapshot().pending_slash(id).await.unwrap();
        match p {
            Some(mut p) if want.1 == 0 => {
                let threshold = SETS.iter().find(|s| (s.avs, s.id) == (p.avs_id, p.set_id)).unwrap().veto_threshold;
                p.vetoes.push(signer);
                let cancelled = p.vetoes.len() >= threshold as usize;
                assert_eq!(response::<spb::MsgVetoSlashResponse>(&out).cancelled, cancelled);
                assert_eq!(after, if cancelled { None } else { Some(p) });
            }
            p => assert_eq!(after, p),
        }
    }

    async fn execute(&mut self, pre: &Snapshot, pick: usize, now: i64, height: u64) {
        let id = if self.slash_ids.is_empty() { 999 } else { self.slash_ids[pick % self.slash_ids.len()] };
        let record = pre.avs_slash(id).await.unwrap();
        let p = pre.pending_slash(id).await.unwrap();
        // Ok(None): the operator left the set's reach, so the slash expires.
        let (want, op) = match &p {
            None if record.is_none() => (Err(("slashing", 9)), None),
            None => (Err(("slashing", 19)), None),
            Some(p) => {
                let op = self.ops.iter().position(|o| o.address == p.operator).unwrap();
                if now < p.executable_at {
                    (Err(("slashing", 13)), Some(op))
                } else if !pre.registration(&p.operator, p.avs_id, p.set_id).await.unwrap().slashable(now) {
                    (Ok(None), Some(op))
                } else {
                    let strategies: Vec<&str> = p.strategies.iter().map(|s| s.as_str()).collect();
                    (predict_avs_slash(pre, &p.operator, (p.avs_id, p.set_id), &strategies, p.wad_to_slash, now, height).await.map(Some), Some(op))
                }
            }
        };
        let before = match op {
            Some(op) => self.views(pre, op, Some(now)).await,
            None => vec![],
        };
        let m = spb::MsgExecuteSlash { executor: self.stakers[2].address.to_string(), slash_id: id };
        let out = self.tx(2, Who::Staker, vec![pack("/aegis.slashing.v1.MsgExecuteSlash", &m)]).await;
        let post = self.chain.storage().latest_snapshot();
        let what = format!("execute slash {id} {p:?}");
        match want {
            Err(c) => {
                assert_eq!(code(&out), c, "{what}: {:?}", out.result);
                assert_eq!(post.avs_slash(id).await.unwrap(), record, "{what}");
                if let Some(op) = op {
                    assert_eq!(self.views(&post, op, None).await, before, "refused {what} changed state");
                }
            }
            Ok(None) => {
                assert_eq!(code(&out), ("", 0), "{what}: {:?}", out.result);
                let r: spb::MsgExecuteSlashResponse = response(&out);
                assert_eq!((r.expired, r.slashed.len()), (true, 0), "{what}");
                assert_eq!(self.views(&post, op.unwrap(), None).await, before, "expired {what} changed stake");
                let rec = post.avs_slash(id).await.unwrap().unwrap();
                assert_eq!((rec.status, rec.resolved_height, rec.resolved_at), (SlashStatus::Expired, height, now), "{what}");
            }
            Ok(Some(parts)) => {
                assert_eq!(code(&out), ("", 0), "{what}: {:?}", out.result);
                let p = p.unwrap();
                let r: spb::MsgExecuteSlashResponse = response(&out);
                assert!(!r.expired, "{what}");
                self.account_slash(p.avs_id, &r.slashed, &parts, &what);
                let mut want_views = before.clone();
                for part in parts {
                    want_views[DENOMS.iter().position(|d| *d == part.denom).unwrap()] = part.after;
                }
                assert_eq!(self.views(&post, op.unwrap(), None).await, want_views, "{what}");
                assert_eq!(post.pending_slash(id).await.unwrap(), None);
                let rec = post.avs_slash(id).await.unwrap().unwrap();
                assert_eq!((rec.status, rec.resolved_height, rec.slashed.len()), (SlashStatus::Executed, height, r.slashed.len()), "{what}");
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Who {
    Op,
    Staker,
    Owner,
    Vetoer,
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), .. ProptestConfig::default() })]

    #[test]
    fn avs_slashing_and_rewards_follow_the_rules_and_conserve_supply(steps in prop::collection::vec(step(), 1..60)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let mut w = World::new().await;
            for s in steps {
                w.run(s).await;
            }
        });
    }
}
