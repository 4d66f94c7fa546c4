//! AVSs, operator sets, allocations, AVS slashing (immediate and vetoable),
//! provider double-sign and downtime, AVS rewards and the risk view, through
//! FinalizeBlock + Commit on real RocksDB state. After every block the test
//! kit checks supply, restaking, rewards and allocation invariants
//! (encumbered magnitude = sum of allocations <= max magnitude).

use aegis_app::avs::genesis::AvsGenesis;
use aegis_app::avs::{AvsParams, AvsRead};
use aegis_app::delegation::genesis::{DelegationGenesis, GenesisOperator};
use aegis_app::delegation::{DelegationParams, DelegationRead};
use aegis_app::math::WAD;
use aegis_app::restaking::genesis::{GenesisStrategy, RestakingGenesis};
use aegis_app::restaking::{pool_address, RestakingParams, RestakingRead};
use aegis_app::rewards::genesis::RewardsGenesis;
use aegis_app::rewards::{RewardsParams, RewardsRead};
use aegis_app::signer::{pack, Signer};
use aegis_app::slashing::genesis::SlashingGenesis;
use aegis_app::slashing::hooks::{CommitVote, Misbehavior};
use aegis_app::slashing::{SlashingParams, SlashingRead};
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_app::AppGenesis;
use aegis_proto::aegis::avs::v1 as apb;
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::restaking::v1 as rpb;
use aegis_proto::aegis::rewards::v1 as wpb;
use aegis_proto::aegis::slashing::v1 as spb;
use base64::Engine;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use prost::Message;

const FUNDS: u128 = 10_000_000_000_000; // 1e13
const LST: &str = "stuaegis";
const WITHDRAWAL_DELAY: u64 = 100;
const ALLOCATION_DELAY: u64 = 20;
const DEALLOCATION_DELAY: u64 = 100;
const VETO_WINDOW: u64 = 30;
const JAIL: u64 = 30;
const WINDOW: u64 = 10;
const BLOCKS_PER_EPOCH: u64 = 4;
/// First deposit into an empty pool: 10^9 shares per token.
const SHARES_PER_TOKEN: u128 = 1_000_000_000;

fn alice() -> Signer {
    test_signer("alice")
}
fn bob() -> Signer {
    test_signer("bob")
}
fn op_a() -> Signer {
    test_signer("operator-a")
}
fn op_b() -> Signer {
    test_signer("operator-b")
}
fn avs_owner() -> Signer {
    test_signer("avs-owner")
}
fn slasher() -> Signer {
    test_signer("slasher")
}
fn vetoer(i: u8) -> Signer {
    test_signer(&format!("vetoer-{i}"))
}
fn recipient() -> Address {
    test_signer("treasury").address
}

fn consensus_key(seed: u8) -> Vec<u8> {
    ed25519_consensus::SigningKey::from([seed; 32]).verification_key().to_bytes().to_vec()
}

fn consensus_address(seed: u8) -> [u8; 20] {
    use sha2::{Digest, Sha256};
    Sha256::digest(consensus_key(seed))[..20].try_into().unwrap()
}

fn coin(denom: &str, amount: u128) -> ProtoCoin {
    ProtoCoin { denom: denom.into(), amount: amount.to_string() }
}

fn wad(numerator: u128, denominator: u128) -> u128 {
    WAD * numerator / denominator
}

fn deposit(s: &Signer, denom: &str, amount: u128) -> cosmrs::Any {
    pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: s.address.to_string(), amount: Some(coin(denom, amount)) })
}

fn queue(s: &Signer, denom: &str, shares: u128) -> cosmrs::Any {
    pack(
        "/aegis.restaking.v1.MsgQueueWithdrawal",
        &rpb::MsgQueueWithdrawal { staker: s.address.to_string(), withdrawals: vec![rpb::WithdrawalRequest { denom: denom.into(), shares: shares.to_string() }] },
    )
}

fn complete(s: &Signer, id: u64) -> cosmrs::Any {
    pack("/aegis.restaking.v1.MsgCompleteWithdrawal", &rpb::MsgCompleteWithdrawal { staker: s.address.to_string(), withdrawal_id: id, receive_as_tokens: true })
}

fn register_operator(s: &Signer, rate: u32) -> cosmrs::Any {
    pack(
        "/aegis.delegation.v1.MsgRegisterOperator",
        &dpb::MsgRegisterOperator {
            operator: s.address.to_string(),
            metadata: None,
            commission_rate_bps: rate,
            max_commission_rate_bps: 5_000,
            max_commission_change_rate_bps: 100,
            consensus_pubkey: vec![],
        },
    )
}

fn delegate(s: &Signer, op: &Address) -> cosmrs::Any {
    pack("/aegis.delegation.v1.MsgDelegate", &dpb::MsgDelegate { staker: s.address.to_string(), operator: op.to_string() })
}

fn register_avs(owner: &Signer, recipient: Option<Address>) -> cosmrs::Any {
    pack(
        "/aegis.avs.v1.MsgRegisterAvs",
        &apb::MsgRegisterAvs {
            owner: owner.address.to_string(),
            metadata_uri: "https://avs.example/meta.json".into(),
            redistribution_recipient: recipient.map(|r| r.to_string()).unwrap_or_default(),
        },
    )
}

struct SetSpec {
    strategies: Vec<&'static str>,
    committee: Vec<Address>,
    threshold: u32,
    window: u64,
    allowlist: Vec<Address>,
}

impl Default for SetSpec {
    fn default() -> Self {
        SetSpec { strategies: vec![NATIVE_DENOM], committee: vec![], threshold: 0, window: 0, allowlist: vec![] }
    }
}

fn create_set(owner: &Signer, avs_id: u64, set_id: u32, spec: SetSpec) -> cosmrs::Any {
    pack(
        "/aegis.avs.v1.MsgCreateOperatorSet",
        &apb::MsgCreateOperatorSet {
            owner: owner.address.to_string(),
            avs_id,
            operator_set_id: set_id,
            strategies: spec.strategies.iter().map(|s| s.to_string()).collect(),
            slasher: slasher().address.to_string(),
            veto_committee: spec.committee.iter().map(|a| a.to_string()).collect(),
            veto_threshold: spec.threshold,
            veto_window_seconds: spec.window,
            allowlist: spec.allowlist.iter().map(|a| a.to_string()).collect(),
        },
    )
}

fn join(op: &Signer, avs_id: u64, set_id: u32) -> cosmrs::Any {
    pack(
        "/aegis.avs.v1.MsgRegisterForOperatorSet",
        &apb::MsgRegisterForOperatorSet { operator: op.address.to_string(), avs_id, operator_set_id: set_id },
    )
}

fn leave(op: &Signer, avs_id: u64, set_id: u32) -> cosmrs::Any {
    pack(
        "/aegis.avs.v1.MsgDeregisterFromOperatorSet",
        &apb::MsgDeregisterFromOperatorSet { operator: op.address.to_string(), avs_id, operator_set_id: set_id },
    )
}

fn allocate(op: &Signer, avs_id: u64, set_id: u32, denom: &str, magnitude: u128) -> cosmrs::Any {
    pack(
        "/aegis.avs.v1.MsgModifyAllocations",
        &apb::MsgModifyAllocations {
            operator: op.address.to_string(),
            allocations: vec![apb::AllocateParams { avs_id, operator_set_id: set_id, strategy: denom.into(), magnitude: magnitude.to_string() }],
        },
    )
}

fn slash(signer: &Signer, op: &Address, avs_id: u64, set_id: u32, denoms: &[&str], wad_to_slash: u128, evidence: &str) -> cosmrs::Any {
    pack(
        "/aegis.slashing.v1.MsgSlashOperator",
        &spb::MsgSlashOperator {
            slasher: signer.address.to_string(),
            operator: op.to_string(),
            avs_id,
            operator_set_id: set_id,
            strategies: denoms.iter().map(|d| d.to_string()).collect(),
            wad_to_slash: wad_to_slash.to_string(),
            description: "double attestation".into(),
            evidence_ref: evidence.into(),
        },
    )
}

fn veto(member: &Signer, id: u64) -> cosmrs::Any {
    pack("/aegis.slashing.v1.MsgVetoSlash", &spb::MsgVetoSlash { member: member.address.to_string(), slash_id: id })
}

fn execute(who: &Signer, id: u64) -> cosmrs::Any {
    pack("/aegis.slashing.v1.MsgExecuteSlash", &spb::MsgExecuteSlash { executor: who.address.to_string(), slash_id: id })
}

fn unjail(op: &Signer) -> cosmrs::Any {
    pack("/aegis.slashing.v1.MsgUnjail", &spb::MsgUnjail { operator: op.address.to_string() })
}

fn submit_rewards(owner: &Signer, avs_id: u64, set_id: u32, amount: ProtoCoin, epochs: u64) -> cosmrs::Any {
    pack(
        "/aegis.rewards.v1.MsgSubmitAvsRewards",
        &wpb::MsgSubmitAvsRewards { owner: owner.address.to_string(), avs_id, operator_set_id: set_id, amount: Some(amount), epochs, strategies: vec![] },
    )
}

fn set_avs_commission(op: &Signer, avs_id: u64, bps: u32) -> cosmrs::Any {
    pack("/aegis.rewards.v1.MsgSetAvsCommission", &wpb::MsgSetAvsCommission { operator: op.address.to_string(), avs_id, commission_bps: bps })
}

fn claim(s: &Signer) -> cosmrs::Any {
    pack("/aegis.rewards.v1.MsgClaimRewards", &wpb::MsgClaimRewards { claimer: s.address.to_string() })
}

fn params_genesis(max_slash_per_epoch: u128) -> AppGenesis {
    let funded = [alice(), bob(), op_a(), op_b(), avs_owner(), slasher(), vetoer(1), vetoer(2)]
        .iter()
        .map(|s| (s.address, vec![Coin::new(LST, FUNDS), Coin::new(NATIVE_DENOM, FUNDS)]))
        .collect::<Vec<_>>();
    let mut g = genesis_with(&funded);
    g.restaking = RestakingGenesis {
        params: RestakingParams { withdrawal_delay_seconds: WITHDRAWAL_DELAY, authority: alice().address },
        strategies: vec![GenesisStrategy { denom: LST.into(), deposit_cap: None }],
    };
    g.delegation = DelegationGenesis { params: DelegationParams { blocks_per_epoch: BLOCKS_PER_EPOCH, max_validators: 10, power_reduction: 1_000_000 }, ..Default::default() };
    g.rewards = RewardsGenesis { params: RewardsParams { inflation_rate_bps: 0, blocks_per_year: 1 } };
    g.avs = AvsGenesis {
        params: AvsParams {
            default_allocation_delay_seconds: ALLOCATION_DELAY,
            deallocation_delay_seconds: DEALLOCATION_DELAY,
            allocation_configuration_delay_seconds: 50,
            max_strategies_per_set: 4,
        },
    };
    g.slashing = SlashingGenesis {
        params: SlashingParams {
            signed_blocks_window: WINDOW,
            min_signed_per_window: WAD / 2,
            downtime_jail_duration_seconds: JAIL,
            slash_fraction_double_sign: WAD / 20,
            slash_fraction_downtime: WAD / 100,
            max_slash_per_epoch,
        },
    };
    g
}

fn genesis() -> AppGenesis {
    params_genesis(WAD)
}

fn code(out: &aegis_app::app::TxOutcome) -> (&'static str, u32) {
    match &out.result {
        Ok(()) => ("", 0),
        Err(e) => (e.codespace, e.code),
    }
}

fn ok(out: &aegis_app::app::TxOutcome) {
    assert!(out.result.is_ok(), "{:?}", out.result);
}

fn failed(out: &aegis_app::app::TxOutcome, want: (&str, u32), msg: &str) {
    assert_eq!(code(out), want, "{:?}", out.result);
    assert_eq!(out.result.as_ref().unwrap_err().message, format!("failed to execute message; message index: 0: {msg}"));
}

/// The first message response of a successful tx, decoded.
fn response<M: Message + Default>(out: &aegis_app::app::TxOutcome) -> M {
    let data = cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData::decode(out.data.as_slice()).unwrap();
    M::decode(data.msg_responses[0].value.as_slice()).unwrap()
}

async fn withdrawable(chain: &TestChain, who: &Address, denom: &str) -> (u128, u128) {
    chain.storage().latest_snapshot().withdrawable(who, denom).await.unwrap()
}

async fn max_magnitude(chain: &TestChain, op: &Address, denom: &str) -> u128 {
    chain.storage().latest_snapshot().operator_stake(op, denom).await.unwrap().max_magnitude
}

async fn allocation(chain: &TestChain, op: &Address, denom: &str, avs: u64, set: u32) -> aegis_app::avs::Allocation {
    chain.storage().latest_snapshot().allocation(op, denom, avs, set).await.unwrap()
}

async fn encumbered(chain: &TestChain, op: &Address, denom: &str) -> u128 {
    chain.storage().latest_snapshot().encumbered_magnitude(op, denom).await.unwrap()
}

/// Blocks (5 s each) until block time has moved at least `seconds`.
async fn wait(chain: &mut TestChain, seconds: u64) {
    for _ in 0..seconds.div_ceil(5) {
        chain.block(vec![]).await;
    }
}

/// Operator A with Alice (1,000,000) and Bob (3,000,000) delegated in
/// uaegis; AVS 1 (burning, or paying `recipient`) with set 1 over uaegis;
/// A registered and 0.5 allocated, matured.
async fn allocated_world(recipient: Option<Address>, spec: SetSpec) -> TestChain {
    let mut chain = TestChain::new(&genesis()).await;
    let (a, b, op, owner) = (alice(), bob(), op_a(), avs_owner());
    ok(&chain.exec(&op, vec![register_operator(&op, 1_000)]).await);
    ok(&chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 1_000_000), delegate(&a, &op.address)]).await);
    ok(&chain.exec(&b, vec![delegate(&b, &op.address), deposit(&b, NATIVE_DENOM, 3_000_000)]).await);
    let out = chain.exec(&owner, vec![register_avs(&owner, recipient)]).await;
    ok(&out);
    assert_eq!(response::<apb::MsgRegisterAvsResponse>(&out).avs_id, 1);
    ok(&chain.exec(&owner, vec![create_set(&owner, 1, 1, spec)]).await);
    ok(&chain.exec(&op, vec![join(&op, 1, 1), allocate(&op, 1, 1, NATIVE_DENOM, WAD / 2)]).await);
    wait(&mut chain, ALLOCATION_DELAY).await;
    assert_eq!(allocation(&chain, &op.address, NATIVE_DENOM, 1, 1).await.magnitude, WAD / 2);
    chain
}

#[tokio::test]
async fn worked_example_half_allocated_slashed_by_half_leaves_three_quarters() {
    let mut chain = allocated_world(None, SetSpec::default()).await;
    let (a, b, op) = (alice(), bob(), op_a());
    // Bob queues a third of his shares before the slash: still in escrow.
    ok(&chain.exec(&b, vec![queue(&b, NATIVE_DENOM, 1_000_000 * SHARES_PER_TOKEN)]).await);
    let supply = chain.supply(NATIVE_DENOM).await;

    let out = chain.exec(&slasher(), vec![slash(&slasher(), &op.address, 1, 1, &[NATIVE_DENOM], WAD / 2, "ev-1")]).await;
    ok(&out);
    let r: spb::MsgSlashOperatorResponse = response(&out);
    assert_eq!(r.pending_slash_id, 0);
    assert_eq!(r.slashed, vec![spb::SlashedAmount { strategy: NATIVE_DENOM.into(), magnitude: (WAD / 4).to_string(), tokens: "1000000".into() }]);

    assert_eq!(max_magnitude(&chain, &op.address, NATIVE_DENOM).await, WAD / 4 * 3);
    assert_eq!(allocation(&chain, &op.address, NATIVE_DENOM, 1, 1).await.magnitude, WAD / 4);
    assert_eq!(encumbered(&chain, &op.address, NATIVE_DENOM).await, WAD / 4);
    // 25% of the 4,000,000 delegated or escrowed is burned.
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply - 1_000_000);
    assert_eq!(chain.balance(&pool_address(NATIVE_DENOM), NATIVE_DENOM).await, 3_000_000);
    assert_eq!(withdrawable(&chain, &a.address, NATIVE_DENOM).await, (750_000 * SHARES_PER_TOKEN, 750_000));
    assert_eq!(withdrawable(&chain, &b.address, NATIVE_DENOM).await, (1_500_000 * SHARES_PER_TOKEN, 1_500_000));

    // The withdrawal queued before the slash pays 75%.
    wait(&mut chain, WITHDRAWAL_DELAY).await;
    let before = chain.balance(&b.address, NATIVE_DENOM).await;
    ok(&chain.exec(&b, vec![complete(&b, 1)]).await);
    assert_eq!(chain.balance(&b.address, NATIVE_DENOM).await - before, 750_000);
}

#[tokio::test]
async fn redistribution_pays_the_recipient_exactly_what_leaves_the_pool() {
    let mut chain = allocated_world(Some(recipient()), SetSpec::default()).await;
    let supply = chain.supply(NATIVE_DENOM).await;
    let out = chain.exec(&slasher(), vec![slash(&slasher(), &op_a().address, 1, 1, &[NATIVE_DENOM], WAD / 5, "ev-1")]).await;
    ok(&out);
    // 0.5 * 0.2 = 0.1 of 4,000,000 tokens.
    assert_eq!(chain.balance(&recipient(), NATIVE_DENOM).await, 400_000);
    assert_eq!(chain.balance(&pool_address(NATIVE_DENOM), NATIVE_DENOM).await, 3_600_000);
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply);
    assert_eq!(max_magnitude(&chain, &op_a().address, NATIVE_DENOM).await, wad(9, 10));
}

#[tokio::test]
async fn allocation_counts_after_its_delay_and_deallocation_stays_slashable_until_its_delay() {
    let mut chain = TestChain::new(&genesis()).await;
    let (a, op, owner, s) = (alice(), op_a(), avs_owner(), slasher());
    ok(&chain.exec(&op, vec![register_operator(&op, 0)]).await);
    ok(&chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 1_000_000), delegate(&a, &op.address)]).await);
    ok(&chain.exec(&owner, vec![register_avs(&owner, None)]).await);
    ok(&chain.exec(&owner, vec![create_set(&owner, 1, 1, SetSpec::default())]).await);
    ok(&chain.exec(&op, vec![join(&op, 1, 1), allocate(&op, 1, 1, NATIVE_DENOM, WAD / 2)]).await);
    let pending = allocation(&chain, &op.address, NATIVE_DENOM, 1, 1).await;
    assert_eq!((pending.magnitude, pending.pending_increase, pending.effective_at), (0, WAD / 2, chain.time + ALLOCATION_DELAY as i64));
    // Reserved at once: the magnitude cannot be promised twice.
    assert_eq!(encumbered(&chain, &op.address, NATIVE_DENOM).await, WAD / 2);

    // Before the delay: nothing slashable.
    let out = chain.exec(&s, vec![slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD, "early")]).await;
    failed(&out, ("slashing", 6), &format!("operator {} has nothing slashable allocated to operator set 1/1 in uaegis", op.address));
    assert_eq!(max_magnitude(&chain, &op.address, NATIVE_DENOM).await, WAD);
    wait(&mut chain, ALLOCATION_DELAY).await;
    assert_eq!(allocation(&chain, &op.address, NATIVE_DENOM, 1, 1).await.magnitude, WAD / 2);

    // Decrease to 0.2: still slashable at 0.5 until the deallocation delay.
    ok(&chain.exec(&op, vec![allocate(&op, 1, 1, NATIVE_DENOM, wad(2, 10))]).await);
    let decreasing = allocation(&chain, &op.address, NATIVE_DENOM, 1, 1).await;
    let done_at = chain.time + DEALLOCATION_DELAY as i64;
    assert_eq!((decreasing.magnitude, decreasing.pending_decrease, decreasing.effective_at), (WAD / 2, wad(3, 10), done_at));
    ok(&chain.exec(&s, vec![slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD / 2, "during-deallocation")]).await);
    // 0.25 slashed from the current 0.5; the pending decrease shrinks by
    // half too, so the allocation still ends at half of 0.2.
    let after = allocation(&chain, &op.address, NATIVE_DENOM, 1, 1).await;
    assert_eq!((after.magnitude, after.pending_decrease, after.effective_at), (WAD / 4, wad(15, 100), done_at));
    assert_eq!(max_magnitude(&chain, &op.address, NATIVE_DENOM).await, wad(75, 100));
    assert_eq!(withdrawable(&chain, &a.address, NATIVE_DENOM).await.1, 750_000);
    while chain.time < done_at {
        chain.block(vec![]).await;
    }
    let done = allocation(&chain, &op.address, NATIVE_DENOM, 1, 1).await;
    assert_eq!((done.magnitude, done.pending_decrease, done.effective_at), (wad(1, 10), 0, 0));
    assert_eq!(encumbered(&chain, &op.address, NATIVE_DENOM).await, wad(1, 10));

    // Deregistration: slashable for the deallocation delay, then not.
    let out = chain.exec(&op, vec![leave(&op, 1, 1)]).await;
    ok(&out);
    let until = response::<apb::MsgDeregisterFromOperatorSetResponse>(&out).slashable_until;
    assert_eq!(until, chain.time + DEALLOCATION_DELAY as i64);
    ok(&chain.exec(&s, vec![slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD / 2, "after-leaving")]).await);
    assert_eq!(max_magnitude(&chain, &op.address, NATIVE_DENOM).await, wad(70, 100));
    while chain.time + 5 < until {
        chain.block(vec![]).await;
    }
    // The block at `until` is past the window.
    let out = chain.exec(&s, vec![slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD / 2, "too-late")]).await;
    failed(&out, ("slashing", 3), &format!("operator {} is not registered for, and no longer slashable by, operator set 1/1", op.address));
    // Nothing can slash it any more, so freeing the magnitude is immediate.
    ok(&chain.exec(&op, vec![allocate(&op, 1, 1, NATIVE_DENOM, 0)]).await);
    assert_eq!(allocation(&chain, &op.address, NATIVE_DENOM, 1, 1).await, aegis_app::avs::Allocation::default());
    assert_eq!(encumbered(&chain, &op.address, NATIVE_DENOM).await, 0);
}

#[tokio::test]
async fn vetoed_slash_changes_nothing_and_executed_slash_applies_as_if_immediate() {
    let committee = vec![vetoer(1).address, vetoer(2).address];
    let spec = SetSpec { committee, threshold: 2, window: VETO_WINDOW, ..Default::default() };
    let mut chain = allocated_world(None, spec).await;
    let (op, s) = (op_a(), slasher());
    let supply = chain.supply(NATIVE_DENOM).await;
    let alloc_before = allocation(&chain, &op.address, NATIVE_DENOM, 1, 1).await;

    let out = chain.exec(&s, vec![slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD / 2, "ev-1")]).await;
    ok(&out);
    let r: spb::MsgSlashOperatorResponse = response(&out);
    assert_eq!((r.pending_slash_id, r.executable_at, r.slashed.len()), (1, chain.time + VETO_WINDOW as i64, 0));
    let pending = chain.storage().latest_snapshot().pending_slash(1).await.unwrap().unwrap();
    assert_eq!((pending.operator, pending.wad_to_slash, pending.vetoes.len()), (op.address, WAD / 2, 0));
    // One veto is below the threshold of two.
    let out = chain.exec(&vetoer(1), vec![veto(&vetoer(1), 1)]).await;
    ok(&out);
    assert!(!response::<spb::MsgVetoSlashResponse>(&out).cancelled);
    let out = chain.exec(&vetoer(1), vec![veto(&vetoer(1), 1)]).await;
    failed(&out, ("slashing", 12), &format!("{} already vetoed slash 1", vetoer(1).address));
    let out = chain.exec(&vetoer(2), vec![veto(&vetoer(2), 1)]).await;
    ok(&out);
    assert!(response::<spb::MsgVetoSlashResponse>(&out).cancelled);
    assert_eq!(chain.storage().latest_snapshot().pending_slash(1).await.unwrap(), None);
    assert_eq!(max_magnitude(&chain, &op.address, NATIVE_DENOM).await, WAD);
    assert_eq!(allocation(&chain, &op.address, NATIVE_DENOM, 1, 1).await, alloc_before);
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply);
    // The vetoed evidence cannot be resubmitted; an executed one cannot
    // be run twice.
    let out = chain.exec(&s, vec![slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD / 2, "ev-1")]).await;
    failed(&out, ("slashing", 7), "evidence \"ev-1\" was already submitted to AVS 1");

    let out = chain.exec(&s, vec![slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD / 2, "ev-2")]).await;
    ok(&out);
    let id = response::<spb::MsgSlashOperatorResponse>(&out).pending_slash_id;
    assert_eq!(id, 2);
    let executable_at = chain.time + VETO_WINDOW as i64;
    let out = chain.exec(&bob(), vec![execute(&bob(), id)]).await;
    failed(&out, ("slashing", 13), &format!("slash 2 is in its veto window until {executable_at} (block time {}, {}s left)", chain.time, executable_at - chain.time));
    while chain.time + 5 < executable_at {
        chain.block(vec![]).await;
    }
    let out = chain.exec(&vetoer(1), vec![veto(&vetoer(1), id)]).await;
    failed(&out, ("slashing", 11), &format!("the veto window of slash 2 closed at {executable_at} (block time {})", chain.time));
    // Anyone executes it; the result is the worked example's.
    let out = chain.exec(&bob(), vec![execute(&bob(), id)]).await;
    ok(&out);
    let r: spb::MsgExecuteSlashResponse = response(&out);
    assert_eq!(r.slashed, vec![spb::SlashedAmount { strategy: NATIVE_DENOM.into(), magnitude: (WAD / 4).to_string(), tokens: "1000000".into() }]);
    assert_eq!(max_magnitude(&chain, &op.address, NATIVE_DENOM).await, WAD / 4 * 3);
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply - 1_000_000);
    let executed_at = chain.height;
    let out = chain.exec(&bob(), vec![execute(&bob(), id)]).await;
    failed(&out, ("slashing", 19), &format!("slash 2 was executed at height {executed_at}"));
}

#[tokio::test]
async fn per_epoch_cap_bounds_what_all_avss_slash_together() {
    let mut chain = TestChain::new(&params_genesis(wad(3, 10))).await;
    let (a, op, owner, s) = (alice(), op_a(), avs_owner(), slasher());
    ok(&chain.exec(&op, vec![register_operator(&op, 0)]).await);
    ok(&chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 1_000_000), delegate(&a, &op.address)]).await);
    ok(&chain.exec(&owner, vec![register_avs(&owner, None), register_avs(&owner, None)]).await);
    ok(&chain.exec(&owner, vec![create_set(&owner, 1, 1, SetSpec::default()), create_set(&owner, 2, 1, SetSpec::default())]).await);
    ok(&chain.exec(&op, vec![join(&op, 1, 1), join(&op, 2, 1), allocate(&op, 1, 1, NATIVE_DENOM, WAD / 2), allocate(&op, 2, 1, NATIVE_DENOM, WAD / 2)]).await);
    wait(&mut chain, ALLOCATION_DELAY).await;
    // Align to the start of an epoch so both slashes fall in one.
    while !(chain.height + 1).is_multiple_of(BLOCKS_PER_EPOCH) {
        chain.block(vec![]).await;
    }
    ok(&chain.exec(&s, vec![slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD / 2, "a")]).await);
    let epoch = chain.height / BLOCKS_PER_EPOCH;
    let out = chain.exec(&s, vec![slash(&s, &op.address, 2, 1, &[NATIVE_DENOM], WAD / 5, "b")]).await;
    failed(
        &out,
        ("slashing", 8),
        &format!(
            "slashing {} more uaegis magnitude from {} in epoch {epoch} would exceed the per-epoch cap {} ({} used); retry after height {}",
            wad(1, 10),
            op.address,
            wad(3, 10),
            WAD / 4,
            (epoch + 1) * BLOCKS_PER_EPOCH
        ),
    );
    assert_eq!(max_magnitude(&chain, &op.address, NATIVE_DENOM).await, wad(75, 100));
    while chain.height / BLOCKS_PER_EPOCH == epoch {
        chain.block(vec![]).await;
    }
    ok(&chain.exec(&s, vec![slash(&s, &op.address, 2, 1, &[NATIVE_DENOM], WAD / 5, "b")]).await);
    assert_eq!(max_magnitude(&chain, &op.address, NATIVE_DENOM).await, wad(65, 100));
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_error_and_changes_nothing() {
    let committee = vec![vetoer(1).address];
    let spec = SetSpec { committee, threshold: 1, window: VETO_WINDOW, allowlist: vec![op_a().address], ..Default::default() };
    let mut chain = allocated_world(None, spec).await;
    let (op, s, owner) = (op_a(), slasher(), avs_owner());
    ok(&chain.exec(&op_b(), vec![register_operator(&op_b(), 0)]).await);
    ok(&chain.exec(&s, vec![slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD / 2, "used")]).await);
    ok(&chain.exec(&op, vec![allocate(&op, 1, 1, NATIVE_DENOM, wad(4, 10))]).await);

    type Case = (&'static str, Signer, cosmrs::Any, (&'static str, u32), String);
    let cases: Vec<Case> = vec![
        (
            "slash by someone other than the slasher",
            alice(),
            slash(&alice(), &op.address, 1, 1, &[NATIVE_DENOM], WAD / 2, "x"),
            ("slashing", 2),
            format!("{} is not the slasher of operator set 1/1 (slasher {})", alice().address, s.address),
        ),
        ("repeated evidence", slasher(), slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD / 2, "used"), ("slashing", 7), "evidence \"used\" was already submitted to AVS 1".into()),
        (
            "operator not in the set",
            slasher(),
            slash(&s, &op_b().address, 1, 1, &[NATIVE_DENOM], WAD / 2, "y"),
            ("slashing", 3),
            format!("operator {} is not registered for, and no longer slashable by, operator set 1/1", op_b().address),
        ),
        ("unknown set", slasher(), slash(&s, &op.address, 1, 9, &[NATIVE_DENOM], WAD / 2, "z"), ("avs", 4), "operator set 1/9 does not exist".into()),
        ("strategy the set does not accept", slasher(), slash(&s, &op.address, 1, 1, &[LST], WAD / 2, "w"), ("avs", 10), "operator set 1/1 does not accept strategy stuaegis".into()),
        (
            "allocation to an unknown set",
            op_a(),
            allocate(&op, 1, 2, NATIVE_DENOM, WAD),
            ("avs", 4),
            "operator set 1/2 does not exist".into(),
        ),
        (
            "a second change while one is pending",
            op_a(),
            allocate(&op, 1, 1, NATIVE_DENOM, wad(1, 10)),
            ("avs", 13),
            format!("allocation of {} to 1/1 in uaegis has a change pending until {}", op.address, chain.time + DEALLOCATION_DELAY as i64),
        ),
        ("operator set by a non-owner", alice(), create_set(&alice(), 1, 2, SetSpec::default()), ("avs", 3), format!("{} is not the owner of AVS 1 (owner {})", alice().address, owner.address)),
        ("operator set that exists", avs_owner(), create_set(&owner, 1, 1, SetSpec::default()), ("avs", 5), "operator set 1/1 already exists".into()),
        ("register twice", op_a(), join(&op, 1, 1), ("avs", 8), format!("operator {} is already registered for operator set 1/1", op.address)),
        ("operator not on the allowlist", op_b(), join(&op_b(), 1, 1), ("avs", 7), format!("operator {} is not on the allowlist of operator set 1/1", op_b().address)),
        ("veto by a non-member", alice(), veto(&alice(), 1), ("slashing", 10), format!("{} is not on the veto committee of operator set 1/1", alice().address)),
        ("execute an unknown slash", alice(), execute(&alice(), 7), ("slashing", 9), "slash 7 does not exist".into()),
        ("unjail when not jailed", op_a(), unjail(&op), ("slashing", 14), format!("operator {} is not jailed", op.address)),
        ("rewards for an AVS one does not own", alice(), submit_rewards(&alice(), 1, 1, coin(NATIVE_DENOM, 10), 1), ("avs", 3), format!("{} is not the owner of AVS 1 (owner {})", alice().address, owner.address)),
        ("AVS commission above the max", op_a(), set_avs_commission(&op, 1, 6_000), ("rewards", 7), format!("commission 6000bps exceeds operator {}'s maximum 5000bps", op.address)),
    ];
    for (name, signer, msg, want_code, want_msg) in cases {
        let snap = chain.storage().latest_snapshot();
        let stake = snap.operator_stake(&op.address, NATIVE_DENOM).await.unwrap();
        let alloc = snap.allocation(&op.address, NATIVE_DENOM, 1, 1).await.unwrap();
        let enc = snap.encumbered_magnitude(&op.address, NATIVE_DENOM).await.unwrap();
        let pending = snap.pending_slash(1).await.unwrap();
        let set = snap.operator_set(1, 1).await.unwrap();
        let supply = chain.supply(NATIVE_DENOM).await;
        let out = chain.exec(&signer, vec![msg]).await;
        assert_eq!(code(&out), want_code, "{name}: {:?}", out.result);
        assert_eq!(out.result.unwrap_err().message, format!("failed to execute message; message index: 0: {want_msg}"), "{name}");
        let snap = chain.storage().latest_snapshot();
        assert_eq!(snap.operator_stake(&op.address, NATIVE_DENOM).await.unwrap(), stake, "{name}");
        assert_eq!(snap.allocation(&op.address, NATIVE_DENOM, 1, 1).await.unwrap(), alloc, "{name}");
        assert_eq!(snap.encumbered_magnitude(&op.address, NATIVE_DENOM).await.unwrap(), enc, "{name}");
        assert_eq!(snap.pending_slash(1).await.unwrap(), pending, "{name}");
        assert_eq!(snap.operator_set(1, 1).await.unwrap(), set, "{name}");
        assert_eq!(chain.supply(NATIVE_DENOM).await, supply, "{name}");
    }
}

#[tokio::test]
async fn allocation_above_the_max_magnitude_is_refused() {
    let mut chain = allocated_world(None, SetSpec::default()).await;
    let (op, owner) = (op_a(), avs_owner());
    ok(&chain.exec(&owner, vec![create_set(&owner, 1, 2, SetSpec::default())]).await);
    ok(&chain.exec(&op, vec![join(&op, 1, 2)]).await);
    let out = chain.exec(&op, vec![allocate(&op, 1, 2, NATIVE_DENOM, wad(6, 10))]).await;
    failed(
        &out,
        ("avs", 12),
        &format!("operator {} has {} uaegis magnitude unallocated (max {WAD}, encumbered {}); the allocation needs {}", op.address, WAD / 2, WAD / 2, wad(6, 10)),
    );
    assert_eq!(allocation(&chain, &op.address, NATIVE_DENOM, 1, 2).await, aegis_app::avs::Allocation::default());
    assert_eq!(encumbered(&chain, &op.address, NATIVE_DENOM).await, WAD / 2);
    ok(&chain.exec(&op, vec![allocate(&op, 1, 2, NATIVE_DENOM, WAD / 2)]).await);
    assert_eq!(encumbered(&chain, &op.address, NATIVE_DENOM).await, WAD);
}

#[tokio::test]
async fn malformed_messages_fail_their_stateless_checks() {
    let chain = TestChain::new(&genesis()).await;
    let (s, op) = (slasher(), op_a());
    let cases: Vec<(cosmrs::Any, (&str, u32), String)> = vec![
        (slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD + 1, "e"), ("slashing", 5), format!("slash of {} exceeds the allocation: at most 10^18 (all of it) can be slashed", WAD + 1)),
        (slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], 0, "e"), ("slashing", 4), "invalid slash fraction 0: it must be between 1 and 10^18 (a WAD fraction of the allocation)".into()),
        (slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], 1, ""), ("slashing", 17), "evidence_ref is 0 bytes, must be 1 to 256".into()),
        (allocate(&op, 1, 1, NATIVE_DENOM, WAD + 1), ("avs", 11), format!("invalid magnitude {} exceeds 10^18: a WAD integer between 0 and 10^18", WAD + 1)),
        (
            create_set(&avs_owner(), 1, 1, SetSpec { committee: vec![alice().address], threshold: 2, window: 10, ..Default::default() }),
            ("avs", 6),
            "invalid operator set: veto_threshold 2 must be between 1 and the committee size 1".into(),
        ),
        (submit_rewards(&avs_owner(), 1, 1, coin(NATIVE_DENOM, 10), 0), ("rewards", 5), "invalid reward submission: epochs 0 must be between 1 and 10000".into()),
    ];
    for (msg, want, text) in cases {
        let tx = chain.sign(&s, vec![msg]).await;
        let err = aegis_app::tx::decode_tx(&tx, false).unwrap_err();
        assert_eq!((err.codespace, err.code), want, "{}", err.message);
        assert_eq!(err.message, text);
    }
}

/// Two genesis validators (consensus keys 1 and 2) with 10^8 uaegis each.
fn validator_genesis() -> AppGenesis {
    let mut g = genesis();
    let key = |seed| base64::engine::general_purpose::STANDARD.encode(consensus_key(seed));
    g.delegation.operators = [(op_a(), 1u8), (op_b(), 2u8)]
        .iter()
        .map(|(s, seed)| GenesisOperator {
            address: s.address.to_string(),
            commission_rate_bps: 0,
            max_commission_rate_bps: 5_000,
            consensus_pubkey: key(*seed),
            self_delegation: format!("100000000{NATIVE_DENOM}"),
            ..Default::default()
        })
        .collect();
    g
}

fn all_signed() -> Vec<CommitVote> {
    vec![CommitVote { address: consensus_address(1), signed: true, power: 10 }, CommitVote { address: consensus_address(2), signed: true, power: 10 }]
}

#[tokio::test]
async fn double_sign_slashes_the_whole_native_stake_tombstones_and_removes_the_validator() {
    let mut chain = TestChain::new(&validator_genesis()).await;
    let (op, owner) = (op_b(), avs_owner());
    ok(&chain.exec(&owner, vec![register_avs(&owner, None)]).await);
    ok(&chain.exec(&owner, vec![create_set(&owner, 1, 1, SetSpec::default())]).await);
    ok(&chain.exec(&op, vec![join(&op, 1, 1), allocate(&op, 1, 1, NATIVE_DENOM, WAD / 2)]).await);
    wait(&mut chain, ALLOCATION_DELAY).await;
    let supply = chain.supply(NATIVE_DENOM).await;

    let evidence = vec![Misbehavior { address: consensus_address(2), height: chain.height, kind: "DuplicateVote".into() }];
    let out = chain.block_with(vec![], all_signed(), evidence.clone()).await;
    let removed: Vec<_> = out.validator_updates.iter().map(|u| (u.pub_key.to_bytes(), u.power.value())).collect();
    assert_eq!(removed, vec![(consensus_key(2), 0)]);
    // 5% of everything: the free half and the allocated half alike.
    assert_eq!(max_magnitude(&chain, &op.address, NATIVE_DENOM).await, wad(95, 100));
    assert_eq!(allocation(&chain, &op.address, NATIVE_DENOM, 1, 1).await.magnitude, wad(475, 1000));
    assert_eq!(encumbered(&chain, &op.address, NATIVE_DENOM).await, wad(475, 1000));
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply - 5_000_000);
    let snap = chain.storage().latest_snapshot();
    let stored = snap.operator(&op.address).await.unwrap().unwrap();
    assert!(stored.tombstoned && stored.jailed);
    assert_eq!(snap.validator_set().await.unwrap().validators.iter().map(|v| v.operator).collect::<Vec<_>>(), vec![op_a().address]);

    // Evidence again changes nothing; the validator never returns.
    let out = chain.block_with(vec![], all_signed(), evidence).await;
    assert!(out.validator_updates.is_empty());
    assert_eq!(max_magnitude(&chain, &op.address, NATIVE_DENOM).await, wad(95, 100));
    let out = chain.exec(&op, vec![unjail(&op)]).await;
    failed(&out, ("slashing", 15), &format!("operator {} is tombstoned for double-signing and cannot be unjailed", op.address));
    while !chain.height.is_multiple_of(BLOCKS_PER_EPOCH) {
        chain.block(vec![]).await;
    }
    chain.block(vec![]).await;
    assert_eq!(chain.storage().latest_snapshot().validator_set().await.unwrap().validators.len(), 1);
}

#[tokio::test]
async fn downtime_jails_slashes_and_unjail_returns_the_validator_at_the_next_epoch() {
    let mut chain = TestChain::new(&validator_genesis()).await;
    let op = op_b();
    let supply = chain.supply(NATIVE_DENOM).await;
    let missing = vec![CommitVote { address: consensus_address(1), signed: true, power: 10 }, CommitVote { address: consensus_address(2), signed: false, power: 10 }];
    // The window must fill (start height 1 + 10) and more than 5 of 10 be missed.
    let mut jailed_at = None;
    for _ in 0..20 {
        let out = chain.block_with(vec![], missing.clone(), vec![]).await;
        if !out.validator_updates.is_empty() {
            let removed: Vec<_> = out.validator_updates.iter().map(|u| (u.pub_key.to_bytes(), u.power.value())).collect();
            assert_eq!(removed, vec![(consensus_key(2), 0)]);
            jailed_at = Some((chain.height, chain.time));
            break;
        }
    }
    let (height, time) = jailed_at.expect("validator B was jailed");
    assert_eq!(height, 1 + WINDOW + 1);
    assert_eq!(max_magnitude(&chain, &op.address, NATIVE_DENOM).await, wad(99, 100));
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply - 1_000_000);
    let snap = chain.storage().latest_snapshot();
    let info = snap.signing_info(&hex::encode_upper(consensus_address(2))).await.unwrap().unwrap();
    assert_eq!((info.missed_blocks_counter, info.index_offset, info.jailed_until), (0, 0, time + JAIL as i64));
    assert!(snap.operator(&op.address).await.unwrap().unwrap().jailed);

    // Too early, then after the jail time.
    let out = chain.exec(&op, vec![unjail(&op)]).await;
    failed(&out, ("slashing", 16), &format!("operator {} is jailed until {} (block time {}, {}s left)", op.address, time + JAIL as i64, chain.time, time + JAIL as i64 - chain.time));
    while chain.time + 5 < time + JAIL as i64 {
        chain.block(vec![]).await;
    }
    ok(&chain.exec(&op, vec![unjail(&op)]).await);
    assert_eq!(chain.storage().latest_snapshot().validator_set().await.unwrap().validators.len(), 1);
    // Back at the next epoch end with its slashed stake as power.
    let mut returned = None;
    for _ in 0..BLOCKS_PER_EPOCH {
        let out = chain.block(vec![]).await;
        if !out.validator_updates.is_empty() {
            returned = Some((chain.height, out.validator_updates.iter().map(|u| (u.pub_key.to_bytes(), u.power.value())).collect::<Vec<_>>()));
        }
    }
    let (h, updates) = returned.expect("validator B returned");
    assert!(h.is_multiple_of(BLOCKS_PER_EPOCH));
    assert_eq!(updates, vec![(consensus_key(2), 99)]);
}

#[tokio::test]
async fn avs_rewards_split_by_allocated_stake_commission_and_delegation() {
    let mut chain = TestChain::new(&genesis()).await;
    let (a, b, owner) = (alice(), bob(), avs_owner());
    let (opa, opb) = (op_a(), op_b());
    ok(&chain.exec(&opa, vec![register_operator(&opa, 1_000)]).await);
    ok(&chain.exec(&opb, vec![register_operator(&opb, 0)]).await);
    // A: Alice 3,000,000 LST, allocates all. B: Bob 2,000,000 LST, allocates half.
    ok(&chain.exec(&a, vec![deposit(&a, LST, 3_000_000), delegate(&a, &opa.address)]).await);
    ok(&chain.exec(&b, vec![deposit(&b, LST, 2_000_000), delegate(&b, &opb.address)]).await);
    ok(&chain.exec(&owner, vec![register_avs(&owner, None)]).await);
    ok(&chain.exec(&owner, vec![create_set(&owner, 1, 1, SetSpec { strategies: vec![LST], ..Default::default() })]).await);
    ok(&chain.exec(&opa, vec![join(&opa, 1, 1), allocate(&opa, 1, 1, LST, WAD), set_avs_commission(&opa, 1, 2_000)]).await);
    ok(&chain.exec(&opb, vec![join(&opb, 1, 1), allocate(&opb, 1, 1, LST, WAD / 2)]).await);
    wait(&mut chain, ALLOCATION_DELAY).await;
    // Land the submission just after an epoch end so the next one pays.
    while !(chain.height + 1).is_multiple_of(BLOCKS_PER_EPOCH) {
        chain.block(vec![]).await;
    }
    let owner_before = chain.balance(&owner.address, NATIVE_DENOM).await;
    let out = chain.exec(&owner, vec![submit_rewards(&owner, 1, 1, coin(NATIVE_DENOM, 8_000_001), 2)]).await;
    ok(&out);
    assert_eq!(response::<wpb::MsgSubmitAvsRewardsResponse>(&out).submission_id, 1);
    assert_eq!(chain.balance(&owner.address, NATIVE_DENOM).await, owner_before - 8_000_001);
    while !chain.height.is_multiple_of(BLOCKS_PER_EPOCH) {
        chain.block(vec![]).await;
    }
    // Epoch 1 pays 8,000,001 / 2 = 4,000,000: weights 3,000,000 (A) and
    // 1,000,000 (B) -> 3,000,000 and 1,000,000. A keeps 20% for this AVS.
    let snap = chain.storage().latest_snapshot();
    assert_eq!(snap.commission_in(&opa.address, NATIVE_DENOM).await.unwrap(), 600_000);
    assert_eq!(snap.pending_rewards(&a.address).await.unwrap(), 2_400_000);
    assert_eq!(snap.pending_rewards(&b.address).await.unwrap(), 1_000_000);
    let sub = snap.submission(1).await.unwrap().unwrap();
    assert_eq!((sub.remaining, sub.remaining_epochs), (4_000_001, 1));
    // Claims pay every denom at once.
    let before = chain.balance(&a.address, NATIVE_DENOM).await;
    ok(&chain.exec(&a, vec![claim(&a)]).await);
    assert_eq!(chain.balance(&a.address, NATIVE_DENOM).await - before, 2_400_000);

    // The last epoch pays the rest: 4,000,001 -> 3,000,000 and 1,000,000,
    // and the 1 left over goes back to the AVS.
    for _ in 0..BLOCKS_PER_EPOCH {
        chain.block(vec![]).await;
    }
    let snap = chain.storage().latest_snapshot();
    assert_eq!(snap.submission(1).await.unwrap(), None);
    assert_eq!(snap.pending_rewards(&a.address).await.unwrap(), 2_400_000);
    assert_eq!(snap.pending_rewards(&b.address).await.unwrap(), 2_000_000);
    assert_eq!(snap.commission_in(&opa.address, NATIVE_DENOM).await.unwrap(), 1_200_000);
    assert_eq!(chain.balance(&owner.address, NATIVE_DENOM).await, owner_before - 8_000_000);
    let before = chain.balance(&opa.address, NATIVE_DENOM).await;
    ok(&chain.exec(&opa, vec![claim(&opa)]).await);
    assert_eq!(chain.balance(&opa.address, NATIVE_DENOM).await - before, 1_200_000);
}

#[tokio::test]
async fn risk_view_shows_stake_allocations_pending_slashes_and_worst_case_loss() {
    use aegis_proto::aegis::avs::v1::query_server::Query;
    let committee = vec![vetoer(1).address];
    let mut chain = allocated_world(None, SetSpec { committee, threshold: 1, window: VETO_WINDOW, ..Default::default() }).await;
    let (a, op, owner, s) = (alice(), op_a(), avs_owner(), slasher());
    ok(&chain.exec(&owner, vec![register_avs(&owner, None)]).await);
    ok(&chain.exec(&owner, vec![create_set(&owner, 2, 1, SetSpec::default())]).await);
    ok(&chain.exec(&op, vec![join(&op, 2, 1), allocate(&op, 2, 1, NATIVE_DENOM, wad(3, 10))]).await);
    wait(&mut chain, ALLOCATION_DELAY).await;
    ok(&chain.exec(&s, vec![slash(&s, &op.address, 1, 1, &[NATIVE_DENOM], WAD / 10, "pending-one")]).await);

    let q = aegis_app::avs::query::AvsQuery::new(chain.storage().clone());
    let risk = q.operator_risk(tonic::Request::new(apb::QueryOperatorRiskRequest { operator: op.address.to_string() })).await.unwrap().into_inner();
    let native = risk.strategies.iter().find(|s| s.strategy == NATIVE_DENOM).unwrap();
    assert_eq!(native.tokens, "4000000");
    assert_eq!(native.encumbered_magnitude, wad(8, 10).to_string());
    assert_eq!(native.slashable_magnitude, wad(8, 10).to_string());
    // Every set slashing all it can: 0.8 of 4,000,000; the epoch cap is 1.0 here.
    assert_eq!(native.worst_case_loss_tokens, "3200000");
    assert_eq!(native.worst_case_loss_per_epoch_tokens, "3200000");
    assert_eq!(risk.allocations.len(), 2);
    assert_eq!(risk.allocations[0].allocated_tokens, "2000000");
    assert_eq!(risk.allocations[1].allocated_tokens, "1200000");
    assert_eq!(risk.pending_slashes.len(), 1);
    assert_eq!((risk.pending_slashes[0].id, risk.pending_slashes[0].wad_to_slash.as_str()), (1, (WAD / 10).to_string().as_str()));

    let exp = q.staker_exposure(tonic::Request::new(apb::QueryStakerExposureRequest { staker: a.address.to_string() })).await.unwrap().into_inner();
    assert_eq!(exp.operator, op.address.to_string());
    let got: Vec<_> = exp.exposures.iter().map(|e| (e.avs_id, e.magnitude.clone(), e.tokens_at_risk.clone())).collect();
    assert_eq!(got, vec![(1, (WAD / 2).to_string(), "500000".to_string()), (2, wad(3, 10).to_string(), "300000".to_string())]);
}
