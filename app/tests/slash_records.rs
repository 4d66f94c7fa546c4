//! A slash request with a veto window keeps one record per id after it
//! resolves: vetoed (with its vetoes), executed (with what it took) or
//! expired (the operator left the set's reach first). Replaying a veto or
//! an execution names what happened to it; the Slash and Slashes queries
//! show every outcome, filtered by status, operator and AVS.

use aegis_app::avs::genesis::AvsGenesis;
use aegis_app::avs::AvsParams;
use aegis_app::delegation::genesis::DelegationGenesis;
use aegis_app::delegation::{DelegationParams, DelegationRead};
use aegis_app::math::WAD;
use aegis_app::query::abci_query;
use aegis_app::restaking::RestakingParams;
use aegis_app::rewards::genesis::RewardsGenesis;
use aegis_app::rewards::RewardsParams;
use aegis_app::signer::{pack, Signer};
use aegis_app::slashing::genesis::SlashingGenesis;
use aegis_app::slashing::query::SlashingQuery;
use aegis_app::slashing::{SlashStatus as Stored, SlashingParams, SlashingRead};
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_app::AppGenesis;
use aegis_proto::aegis::avs::v1 as apb;
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::restaking::v1 as rpb;
use aegis_proto::aegis::slashing::v1::query_server::Query as _;
use aegis_proto::aegis::slashing::v1::{self as spb, SlashStatus};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use prost::Message;
use tonic::{Code, Request};

const FUNDS: u128 = 10_000_000_000_000;
const ALLOCATION_DELAY: u64 = 20;
const DEALLOCATION_DELAY: u64 = 100;
const VETO_WINDOW: u64 = 30;

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
fn owner() -> Signer {
    test_signer("avs-owner")
}
fn slasher() -> Signer {
    test_signer("slasher")
}
fn vetoer(i: u8) -> Signer {
    test_signer(&format!("vetoer-{i}"))
}

fn genesis() -> AppGenesis {
    let funded = [alice(), bob(), op_a(), op_b(), owner(), slasher(), vetoer(1), vetoer(2)]
        .iter()
        .map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, FUNDS)]))
        .collect::<Vec<_>>();
    let mut g = genesis_with(&funded);
    g.restaking.params = RestakingParams { withdrawal_delay_seconds: 100, authority: alice().address };
    g.delegation = DelegationGenesis { params: DelegationParams { blocks_per_epoch: 4, max_validators: 10, power_reduction: 1_000_000 }, ..Default::default() };
    g.rewards = RewardsGenesis { params: RewardsParams { inflation_rate_bps: 0, blocks_per_year: 1 } };
    g.avs = AvsGenesis {
        params: AvsParams {
            default_allocation_delay_seconds: ALLOCATION_DELAY,
            deallocation_delay_seconds: DEALLOCATION_DELAY,
            allocation_configuration_delay_seconds: 50,
            max_strategies_per_set: 4,
        },
    };
    g.slashing = SlashingGenesis { params: SlashingParams { max_slash_per_epoch: WAD, ..Default::default() } };
    g
}

fn coin(amount: u128) -> ProtoCoin {
    ProtoCoin { denom: NATIVE_DENOM.into(), amount: amount.to_string() }
}

fn register_operator(s: &Signer) -> cosmrs::Any {
    let m = dpb::MsgRegisterOperator {
        operator: s.address.to_string(),
        metadata: None,
        commission_rate_bps: 1_000,
        max_commission_rate_bps: 5_000,
        max_commission_change_rate_bps: 100,
        consensus_pubkey: vec![],
    };
    pack("/aegis.delegation.v1.MsgRegisterOperator", &m)
}

fn deposit_and_delegate(s: &Signer, op: &Address, amount: u128) -> Vec<cosmrs::Any> {
    vec![
        pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: s.address.to_string(), amount: Some(coin(amount)) }),
        pack("/aegis.delegation.v1.MsgDelegate", &dpb::MsgDelegate { staker: s.address.to_string(), operator: op.to_string() }),
    ]
}

fn register_avs(owner: &Signer) -> cosmrs::Any {
    let m = apb::MsgRegisterAvs { owner: owner.address.to_string(), metadata_uri: "https://avs.example/meta.json".into(), redistribution_recipient: String::new() };
    pack("/aegis.avs.v1.MsgRegisterAvs", &m)
}

/// Set 1 of `avs_id` over uaegis, with vetoers 1 and 2 (both needed).
fn create_set(owner: &Signer, avs_id: u64) -> cosmrs::Any {
    let m = apb::MsgCreateOperatorSet {
        owner: owner.address.to_string(),
        avs_id,
        operator_set_id: 1,
        strategies: vec![NATIVE_DENOM.into()],
        slasher: slasher().address.to_string(),
        veto_committee: vec![vetoer(1).address.to_string(), vetoer(2).address.to_string()],
        veto_threshold: 2,
        veto_window_seconds: VETO_WINDOW,
        allowlist: vec![],
    };
    pack("/aegis.avs.v1.MsgCreateOperatorSet", &m)
}

fn join_and_allocate(op: &Signer, avs_id: u64, magnitude: u128) -> Vec<cosmrs::Any> {
    let join = apb::MsgRegisterForOperatorSet { operator: op.address.to_string(), avs_id, operator_set_id: 1 };
    let alloc = apb::MsgModifyAllocations {
        operator: op.address.to_string(),
        allocations: vec![apb::AllocateParams { avs_id, operator_set_id: 1, strategy: NATIVE_DENOM.into(), magnitude: magnitude.to_string() }],
    };
    vec![pack("/aegis.avs.v1.MsgRegisterForOperatorSet", &join), pack("/aegis.avs.v1.MsgModifyAllocations", &alloc)]
}

fn leave(op: &Signer, avs_id: u64) -> cosmrs::Any {
    let m = apb::MsgDeregisterFromOperatorSet { operator: op.address.to_string(), avs_id, operator_set_id: 1 };
    pack("/aegis.avs.v1.MsgDeregisterFromOperatorSet", &m)
}

fn slash(op: &Address, avs_id: u64, wad_to_slash: u128, evidence: &str) -> cosmrs::Any {
    let m = spb::MsgSlashOperator {
        slasher: slasher().address.to_string(),
        operator: op.to_string(),
        avs_id,
        operator_set_id: 1,
        strategies: vec![NATIVE_DENOM.into()],
        wad_to_slash: wad_to_slash.to_string(),
        description: "double attestation".into(),
        evidence_ref: evidence.into(),
    };
    pack("/aegis.slashing.v1.MsgSlashOperator", &m)
}

fn veto(member: &Signer, id: u64) -> cosmrs::Any {
    pack("/aegis.slashing.v1.MsgVetoSlash", &spb::MsgVetoSlash { member: member.address.to_string(), slash_id: id })
}

fn execute(who: &Signer, id: u64) -> cosmrs::Any {
    pack("/aegis.slashing.v1.MsgExecuteSlash", &spb::MsgExecuteSlash { executor: who.address.to_string(), slash_id: id })
}

fn ok(out: &aegis_app::app::TxOutcome) {
    assert!(out.result.is_ok(), "{:?}", out.result);
}

fn failed(out: &aegis_app::app::TxOutcome, want: (&str, u32), msg: &str) {
    let e = out.result.as_ref().unwrap_err();
    assert_eq!((e.codespace, e.code), want, "{e:?}");
    assert_eq!(e.message, format!("failed to execute message; message index: 0: {msg}"));
}

fn response<M: Message + Default>(out: &aegis_app::app::TxOutcome) -> M {
    let data = cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData::decode(out.data.as_slice()).unwrap();
    M::decode(data.msg_responses[0].value.as_slice()).unwrap()
}

/// Blocks (5 s each) until block time has moved at least `seconds`.
async fn wait(chain: &mut TestChain, seconds: u64) {
    for _ in 0..seconds.div_ceil(5) {
        chain.block(vec![]).await;
    }
}

/// Request a slash against `op` and return its id.
async fn request(chain: &mut TestChain, op: &Address, avs_id: u64, wad_to_slash: u128, evidence: &str) -> u64 {
    let out = chain.exec(&slasher(), vec![slash(op, avs_id, wad_to_slash, evidence)]).await;
    ok(&out);
    response::<spb::MsgSlashOperatorResponse>(&out).pending_slash_id
}

/// Operator A with Alice (1,000,000) and Bob (3,000,000) delegated; AVS 1's
/// set 1 has a two-vetoer committee; A registered with 0.5 allocated,
/// matured.
async fn world() -> TestChain {
    let mut chain = TestChain::new(&genesis()).await;
    let op = op_a();
    ok(&chain.exec(&op, vec![register_operator(&op)]).await);
    ok(&chain.exec(&alice(), deposit_and_delegate(&alice(), &op.address, 1_000_000)).await);
    ok(&chain.exec(&bob(), deposit_and_delegate(&bob(), &op.address, 3_000_000)).await);
    ok(&chain.exec(&owner(), vec![register_avs(&owner()), create_set(&owner(), 1)]).await);
    ok(&chain.exec(&op, join_and_allocate(&op, 1, WAD / 2)).await);
    wait(&mut chain, ALLOCATION_DELAY).await;
    chain
}

fn query(chain: &TestChain) -> SlashingQuery {
    SlashingQuery::new(chain.storage().clone())
}

async fn record(chain: &TestChain, id: u64) -> spb::Slash {
    query(chain).slash(Request::new(spb::QuerySlashRequest { slash_id: id })).await.unwrap().into_inner().slash.unwrap()
}

async fn max_magnitude(chain: &TestChain, op: &Address) -> u128 {
    chain.storage().latest_snapshot().operator_stake(op, NATIVE_DENOM).await.unwrap().max_magnitude
}

/// The Slash record the request made, before anything happened to it.
fn requested(id: u64, op: &Address, avs_id: u64, wad_to_slash: u128, evidence: &str, submitted: (u64, i64)) -> spb::Slash {
    spb::Slash {
        id,
        operator: op.to_string(),
        avs_id,
        operator_set_id: 1,
        strategies: vec![NATIVE_DENOM.into()],
        wad_to_slash: wad_to_slash.to_string(),
        description: "double attestation".into(),
        evidence_ref: evidence.into(),
        submitted_at: submitted.1,
        executable_at: submitted.1 + VETO_WINDOW as i64,
        vetoes: vec![],
        status: SlashStatus::Pending as i32,
        resolved_height: 0,
        resolved_at: 0,
        resolved_by: String::new(),
        slashed: vec![],
        submitted_height: submitted.0,
    }
}

#[tokio::test]
async fn vetoed_slash_stays_queryable_with_its_vetoes_and_resolution_height() {
    let mut chain = world().await;
    let op = op_a().address;
    let id = request(&mut chain, &op, 1, WAD / 2, "ev-1").await;
    assert_eq!(id, 1);
    let mut want = requested(1, &op, 1, WAD / 2, "ev-1", (chain.height, chain.time));
    assert_eq!(record(&chain, 1).await, want);

    ok(&chain.exec(&vetoer(1), vec![veto(&vetoer(1), 1)]).await);
    want.vetoes.push(vetoer(1).address.to_string());
    assert_eq!(record(&chain, 1).await, want);
    let out = chain.exec(&vetoer(2), vec![veto(&vetoer(2), 1)]).await;
    ok(&out);
    assert!(response::<spb::MsgVetoSlashResponse>(&out).cancelled);
    let vetoed_at = chain.height;
    want.vetoes.push(vetoer(2).address.to_string());
    want.status = SlashStatus::Vetoed as i32;
    want.resolved_height = vetoed_at;
    want.resolved_at = chain.time;
    assert_eq!(record(&chain, 1).await, want);
    let stored = chain.storage().latest_snapshot().avs_slash(1).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.resolved_height), (Stored::Vetoed, vetoed_at));
    assert_eq!(chain.storage().latest_snapshot().pending_slash(1).await.unwrap(), None);

    // The pending-only query says where it went.
    let e = query(&chain).pending_slash(Request::new(spb::QueryPendingSlashRequest { slash_id: 1 })).await.unwrap_err();
    assert_eq!((e.code(), e.message()), (Code::NotFound, format!("slash 1 is no longer pending: slash 1 was vetoed at height {vetoed_at}").as_str()));

    // Replays name the outcome and change nothing, also after the window.
    let supply = chain.supply(NATIVE_DENOM).await;
    let out = chain.exec(&vetoer(1), vec![veto(&vetoer(1), 1)]).await;
    failed(&out, ("slashing", 19), &format!("slash 1 was vetoed at height {vetoed_at}"));
    wait(&mut chain, VETO_WINDOW).await;
    let out = chain.exec(&bob(), vec![execute(&bob(), 1)]).await;
    failed(&out, ("slashing", 19), &format!("slash 1 was vetoed at height {vetoed_at}"));
    assert_eq!(record(&chain, 1).await, want);
    assert_eq!(max_magnitude(&chain, &op).await, WAD);
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply);
}

#[tokio::test]
async fn executed_slash_records_exactly_what_it_took_and_cannot_run_twice() {
    let mut chain = world().await;
    let op = op_a().address;
    let id = request(&mut chain, &op, 1, WAD / 2, "ev-1").await;
    let mut want = requested(id, &op, 1, WAD / 2, "ev-1", (chain.height, chain.time));
    ok(&chain.exec(&vetoer(1), vec![veto(&vetoer(1), id)]).await);
    wait(&mut chain, VETO_WINDOW).await;
    let supply = chain.supply(NATIVE_DENOM).await;

    let out = chain.exec(&bob(), vec![execute(&bob(), id)]).await;
    ok(&out);
    let executed_at = chain.height;
    // Half of a 0.5 allocation: 0.25 of the 4,000,000 delegated.
    let taken = vec![spb::SlashedAmount { strategy: NATIVE_DENOM.into(), magnitude: (WAD / 4).to_string(), tokens: "1000000".into() }];
    let r: spb::MsgExecuteSlashResponse = response(&out);
    assert_eq!((r.slashed.clone(), r.expired), (taken.clone(), false));
    want.vetoes = vec![vetoer(1).address.to_string()];
    want.status = SlashStatus::Executed as i32;
    want.resolved_height = executed_at;
    want.resolved_at = chain.time;
    want.resolved_by = bob().address.to_string();
    want.slashed = taken;
    assert_eq!(record(&chain, id).await, want);
    assert_eq!(max_magnitude(&chain, &op).await, WAD / 4 * 3);
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply - 1_000_000);

    let out = chain.exec(&alice(), vec![execute(&alice(), id)]).await;
    failed(&out, ("slashing", 19), &format!("slash 1 was executed at height {executed_at}"));
    let out = chain.exec(&vetoer(2), vec![veto(&vetoer(2), id)]).await;
    failed(&out, ("slashing", 19), &format!("slash 1 was executed at height {executed_at}"));
    assert_eq!(record(&chain, id).await, want);
    assert_eq!(max_magnitude(&chain, &op).await, WAD / 4 * 3);
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply - 1_000_000);
}

#[tokio::test]
async fn slash_of_an_operator_gone_from_the_set_expires_when_executed() {
    let mut chain = world().await;
    let op = op_a();
    let id = request(&mut chain, &op.address, 1, WAD / 2, "ev-1").await;
    let mut want = requested(id, &op.address, 1, WAD / 2, "ev-1", (chain.height, chain.time));
    ok(&chain.exec(&op, vec![leave(&op, 1)]).await);
    let slashable_until = chain.time + DEALLOCATION_DELAY as i64;
    // Within slashable_until it would still execute; wait past it.
    while chain.time < slashable_until {
        chain.block(vec![]).await;
    }
    let supply = chain.supply(NATIVE_DENOM).await;
    let out = chain.exec(&bob(), vec![execute(&bob(), id)]).await;
    ok(&out);
    let expired_at = chain.height;
    let r: spb::MsgExecuteSlashResponse = response(&out);
    assert_eq!((r.slashed.len(), r.expired), (0, true));
    want.status = SlashStatus::Expired as i32;
    want.resolved_height = expired_at;
    want.resolved_at = chain.time;
    want.resolved_by = bob().address.to_string();
    assert_eq!(record(&chain, id).await, want);
    assert_eq!(max_magnitude(&chain, &op.address).await, WAD);
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply);

    let out = chain.exec(&bob(), vec![execute(&bob(), id)]).await;
    failed(&out, ("slashing", 19), &format!("slash 1 expired at height {expired_at}"));
    // Its evidence stays used.
    let out = chain.exec(&slasher(), vec![slash(&op.address, 1, WAD / 2, "ev-1")]).await;
    failed(&out, ("slashing", 7), "evidence \"ev-1\" was already submitted to AVS 1");
}

fn filter(status: SlashStatus, operator: Option<&Address>, avs_id: u64, pagination: Option<PageRequest>) -> spb::QuerySlashesRequest {
    spb::QuerySlashesRequest { status: status as i32, operator: operator.map(|o| o.to_string()).unwrap_or_default(), avs_id, pagination }
}

async fn ids(chain: &TestChain, req: spb::QuerySlashesRequest) -> Vec<(u64, i32)> {
    let r = query(chain).slashes(Request::new(req)).await.unwrap().into_inner();
    r.slashes.iter().map(|s| (s.id, s.status)).collect()
}

#[tokio::test]
async fn slashes_list_by_status_operator_and_avs_one_page_at_a_time() {
    let mut chain = world().await;
    let (a, b) = (op_a(), op_b());
    ok(&chain.exec(&b, vec![register_operator(&b)]).await);
    ok(&chain.exec(&b, join_and_allocate(&b, 1, WAD / 2)).await);
    ok(&chain.exec(&owner(), vec![register_avs(&owner()), create_set(&owner(), 2)]).await);
    ok(&chain.exec(&a, join_and_allocate(&a, 2, WAD / 4)).await);
    wait(&mut chain, ALLOCATION_DELAY).await;

    assert_eq!(request(&mut chain, &a.address, 1, WAD / 2, "one").await, 1);
    assert_eq!(request(&mut chain, &b.address, 1, WAD / 2, "two").await, 2);
    assert_eq!(request(&mut chain, &a.address, 1, WAD / 10, "three").await, 3);
    ok(&chain.exec(&vetoer(1), vec![veto(&vetoer(1), 1)]).await);
    ok(&chain.exec(&vetoer(2), vec![veto(&vetoer(2), 1)]).await);
    wait(&mut chain, VETO_WINDOW).await;
    ok(&chain.exec(&bob(), vec![execute(&bob(), 3)]).await);
    assert_eq!(request(&mut chain, &a.address, 2, WAD / 2, "four").await, 4);

    let (p, v, e) = (SlashStatus::Pending as i32, SlashStatus::Vetoed as i32, SlashStatus::Executed as i32);
    let any = SlashStatus::Unspecified;
    assert_eq!(ids(&chain, filter(any, None, 0, None)).await, vec![(1, v), (2, p), (3, e), (4, p)]);
    assert_eq!(ids(&chain, filter(SlashStatus::Vetoed, None, 0, None)).await, vec![(1, v)]);
    assert_eq!(ids(&chain, filter(SlashStatus::Pending, None, 0, None)).await, vec![(2, p), (4, p)]);
    assert_eq!(ids(&chain, filter(SlashStatus::Executed, None, 0, None)).await, vec![(3, e)]);
    assert_eq!(ids(&chain, filter(SlashStatus::Expired, None, 0, None)).await, vec![]);
    assert_eq!(ids(&chain, filter(any, Some(&a.address), 0, None)).await, vec![(1, v), (3, e), (4, p)]);
    assert_eq!(ids(&chain, filter(SlashStatus::Pending, Some(&a.address), 0, None)).await, vec![(4, p)]);
    assert_eq!(ids(&chain, filter(any, Some(&b.address), 0, None)).await, vec![(2, p)]);
    assert_eq!(ids(&chain, filter(any, None, 2, None)).await, vec![(4, p)]);
    assert_eq!(ids(&chain, filter(SlashStatus::Executed, None, 1, None)).await, vec![(3, e)]);
    assert_eq!(ids(&chain, filter(any, Some(&a.address), 1, None)).await, vec![(1, v), (3, e)]);
    assert_eq!(ids(&chain, filter(SlashStatus::Vetoed, Some(&a.address), 1, None)).await, vec![(1, v)]);
    assert_eq!(ids(&chain, filter(any, Some(&b.address), 2, None)).await, vec![]);

    // Two pages of two.
    let page = |key: Vec<u8>| Some(PageRequest { key, limit: 2, ..Default::default() });
    let r = query(&chain).slashes(Request::new(filter(any, None, 0, page(vec![])))).await.unwrap().into_inner();
    assert_eq!(r.slashes.iter().map(|s| s.id).collect::<Vec<_>>(), vec![1, 2]);
    let next = r.pagination.unwrap().next_key;
    assert_eq!(next, b"00000000000000000003".to_vec());
    let r = query(&chain).slashes(Request::new(filter(any, None, 0, page(next)))).await.unwrap().into_inner();
    assert_eq!(r.slashes.iter().map(|s| s.id).collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(r.pagination.unwrap().next_key, Vec::<u8>::new());

    // The pending-only list and the risk view see only what is pending.
    let r = query(&chain).pending_slashes(Request::new(spb::QueryPendingSlashesRequest { pagination: None })).await.unwrap().into_inner();
    assert_eq!(r.slashes.iter().map(|s| s.id).collect::<Vec<_>>(), vec![2, 4]);
    let pending_of_a = chain.storage().latest_snapshot().pending_slashes_of(&a.address).await.unwrap();
    assert_eq!(pending_of_a.iter().map(|s| s.id).collect::<Vec<_>>(), vec![4]);

    let e = query(&chain).slashes(Request::new(spb::QuerySlashesRequest { status: 9, ..Default::default() })).await.unwrap_err();
    assert_eq!((e.code(), e.message()), (Code::InvalidArgument, "unknown slash status 9: use 0 (any) to 4"));
    let e = query(&chain).slashes(Request::new(spb::QuerySlashesRequest { operator: "aegis1nope".into(), ..Default::default() })).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    // The same list over ABCI.
    let req = tendermint::abci::request::Query {
        data: filter(SlashStatus::Pending, Some(&a.address), 0, None).encode_to_vec().into(),
        path: "/aegis.slashing.v1.Query/Slashes".into(),
        height: 0u32.into(),
        prove: false,
    };
    let r = abci_query(chain.storage(), req).await;
    assert_eq!(r.code.value(), 0, "{}", r.log);
    let r = spb::QuerySlashesResponse::decode(r.value.as_ref()).unwrap();
    assert_eq!(r.slashes.iter().map(|s| (s.id, s.status)).collect::<Vec<_>>(), vec![(4, p)]);
}

#[tokio::test]
async fn a_slash_id_never_given_out_is_not_found() {
    let mut chain = world().await;
    request(&mut chain, &op_a().address, 1, WAD / 2, "ev-1").await;
    let q = query(&chain);
    let e = q.slash(Request::new(spb::QuerySlashRequest { slash_id: 2 })).await.unwrap_err();
    assert_eq!((e.code(), e.message()), (Code::NotFound, "slash 2 does not exist"));
    let e = q.pending_slash(Request::new(spb::QueryPendingSlashRequest { slash_id: 2 })).await.unwrap_err();
    assert_eq!((e.code(), e.message()), (Code::NotFound, "slash 2 does not exist"));
    // Over ABCI too, as cosmjs reads it.
    let req = tendermint::abci::request::Query {
        data: spb::QuerySlashRequest { slash_id: 2 }.encode_to_vec().into(),
        path: "/aegis.slashing.v1.Query/Slash".into(),
        height: 0u32.into(),
        prove: false,
    };
    let r = abci_query(chain.storage(), req).await;
    assert_eq!((r.code.value(), r.codespace.as_str(), r.log.as_str()), (22, "sdk", "rpc error: code = NotFound desc = slash 2 does not exist"));

    let out = chain.exec(&bob(), vec![execute(&bob(), 2)]).await;
    failed(&out, ("slashing", 9), "slash 2 does not exist");
    let out = chain.exec(&vetoer(1), vec![veto(&vetoer(1), 2)]).await;
    failed(&out, ("slashing", 9), "slash 2 does not exist");
    assert_eq!(record(&chain, 1).await.status, SlashStatus::Pending as i32);
}
