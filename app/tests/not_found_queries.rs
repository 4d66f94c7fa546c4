//! Every query about one thing by its id or address (an AVS, an operator
//! set, an operator, a strategy, a slash, a consumer, an account) answers
//! gRPC NotFound naming the thing when it does not exist; queries about an
//! address that merely holds nothing (balances, deposits, rewards, a
//! staker's delegation or exposure) answer empty, as the Cosmos SDK does.
//! See docs/ARCHITECTURE.md, "Queries".

use aegis_app::signer::{pack, Signer};
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_proto::aegis::avs::v1 as apb;
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::provider::v1 as ppb;
use aegis_proto::aegis::restaking::v1 as rpb;
use aegis_proto::aegis::rewards::v1 as wpb;
use aegis_proto::aegis::slashing::v1 as spb;
use tonic::{Code, Request, Response, Status};

fn owner() -> Signer {
    test_signer("avs-owner")
}
fn op_a() -> Signer {
    test_signer("operator-a")
}
/// Funded, never an operator, never staked.
fn stranger() -> Address {
    test_signer("stranger").address
}
/// Never seen by the chain at all.
fn nobody() -> Address {
    test_signer("nobody").address
}

fn not_found<T: std::fmt::Debug>(what: &str, r: Result<Response<T>, Status>, msg: &str) {
    let e = r.expect_err(what);
    assert_eq!((e.code(), e.message()), (Code::NotFound, msg), "{what}");
}

/// AVS 1 with set 1 (slasher: the owner), operator A registered without a
/// consensus key, and a funded stranger.
async fn world() -> TestChain {
    let funded = [owner(), op_a(), test_signer("stranger")].iter().map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, 1_000_000_000)])).collect::<Vec<_>>();
    let mut chain = TestChain::new(&genesis_with(&funded)).await;
    let op = op_a();
    let register = dpb::MsgRegisterOperator {
        operator: op.address.to_string(),
        metadata: None,
        commission_rate_bps: 1_000,
        max_commission_rate_bps: 5_000,
        max_commission_change_rate_bps: 100,
        consensus_pubkey: vec![],
    };
    assert!(chain.exec(&op, vec![pack("/aegis.delegation.v1.MsgRegisterOperator", &register)]).await.result.is_ok());
    let avs = apb::MsgRegisterAvs { owner: owner().address.to_string(), metadata_uri: String::new(), redistribution_recipient: String::new() };
    let set = apb::MsgCreateOperatorSet {
        owner: owner().address.to_string(),
        avs_id: 1,
        operator_set_id: 1,
        strategies: vec![NATIVE_DENOM.into()],
        slasher: owner().address.to_string(),
        ..Default::default()
    };
    let out = chain.exec(&owner(), vec![pack("/aegis.avs.v1.MsgRegisterAvs", &avs), pack("/aegis.avs.v1.MsgCreateOperatorSet", &set)]).await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    chain
}

#[tokio::test]
async fn queries_about_things_that_do_not_exist_answer_not_found_naming_them() {
    use aegis_proto::aegis::avs::v1::query_server::Query as _;
    use aegis_proto::aegis::delegation::v1::query_server::Query as _;
    use aegis_proto::aegis::provider::v1::query_server::Query as _;
    use aegis_proto::aegis::restaking::v1::query_server::Query as _;
    use aegis_proto::aegis::rewards::v1::query_server::Query as _;
    use aegis_proto::aegis::slashing::v1::query_server::Query as _;
    use cosmos_sdk_proto::cosmos::auth::v1beta1::query_server::Query as _;
    let chain = world().await;
    let st = chain.storage().clone();
    let (op, s, n) = (op_a().address.to_string(), stranger().to_string(), nobody().to_string());
    let not_op = format!("{s} is not a registered operator");

    let avs = aegis_app::avs::query::AvsQuery::new(st.clone());
    not_found("avs", avs.avs(Request::new(apb::QueryAvsRequest { avs_id: 99 })).await, "AVS 99 does not exist");
    not_found("set of a missing AVS", avs.operator_set(Request::new(apb::QueryOperatorSetRequest { avs_id: 99, operator_set_id: 1 })).await, "operator set 99/1 does not exist");
    not_found("missing set", avs.operator_set(Request::new(apb::QueryOperatorSetRequest { avs_id: 1, operator_set_id: 9 })).await, "operator set 1/9 does not exist");
    let members = apb::QueryOperatorSetMembersRequest { avs_id: 1, operator_set_id: 9, pagination: None };
    not_found("members", avs.operator_set_members(Request::new(members)).await, "operator set 1/9 does not exist");
    not_found("allocations", avs.allocations(Request::new(apb::QueryAllocationsRequest { operator: s.clone() })).await, &not_op);
    not_found("operator risk", avs.operator_risk(Request::new(apb::QueryOperatorRiskRequest { operator: s.clone() })).await, &not_op);

    let rewards = aegis_app::rewards::query::RewardsQuery::new(st.clone());
    let commission = |operator: &str, avs_id| Request::new(wpb::QueryAvsCommissionRequest { operator: operator.into(), avs_id });
    not_found("commission for a missing AVS", rewards.avs_commission(commission(&op, 99)).await, "AVS 99 does not exist");
    not_found("commission of a non-operator", rewards.avs_commission(commission(&s, 1)).await, &not_op);

    let delegation = aegis_app::delegation::query::DelegationQuery::new(st.clone());
    not_found("operator", delegation.operator(Request::new(dpb::QueryOperatorRequest { operator: s.clone() })).await, &not_op);
    let delegators = dpb::QueryOperatorDelegatorsRequest { operator: s.clone(), pagination: None };
    not_found("delegators", delegation.operator_delegators(Request::new(delegators)).await, &not_op);

    let restaking = aegis_app::restaking::query::RestakingQuery::new(st.clone());
    not_found("strategy", restaking.strategy(Request::new(rpb::QueryStrategyRequest { denom: "uatom".into() })).await, "no strategy accepts denom uatom");

    let slashing = aegis_app::slashing::query::SlashingQuery::new(st.clone());
    not_found("slash", slashing.slash(Request::new(spb::QuerySlashRequest { slash_id: 99 })).await, "slash 99 does not exist");
    not_found("pending slash", slashing.pending_slash(Request::new(spb::QueryPendingSlashRequest { slash_id: 99 })).await, "slash 99 does not exist");
    not_found("signing info", slashing.signing_info(Request::new(spb::QuerySigningInfoRequest { operator: s.clone() })).await, &not_op);
    let keyless = format!("operator {op} has no consensus key");
    not_found("signing info without a key", slashing.signing_info(Request::new(spb::QuerySigningInfoRequest { operator: op.clone() })).await, &keyless);

    let provider = aegis_app::provider::query::ProviderQuery::new(st.clone());
    let gone = "consumer 99 does not exist";
    not_found("consumer", provider.consumer(Request::new(ppb::QueryConsumerRequest { consumer_id: 99 })).await, gone);
    not_found("consumer genesis", provider.consumer_genesis(Request::new(ppb::QueryConsumerGenesisRequest { consumer_id: 99 })).await, gone);
    not_found("consumer validators", provider.consumer_validators(Request::new(ppb::QueryConsumerValidatorsRequest { consumer_id: 99 })).await, gone);
    not_found("consumer rewards", provider.consumer_rewards(Request::new(ppb::QueryConsumerRewardsRequest { consumer_id: 99 })).await, gone);
    not_found("operator consumers", provider.operator_consumers(Request::new(ppb::QueryOperatorConsumersRequest { operator: s.clone() })).await, &not_op);

    let auth = aegis_app::auth::query::AuthQuery::new(st.clone());
    let account = cosmos_sdk_proto::cosmos::auth::v1beta1::QueryAccountRequest { address: n.clone() };
    not_found("account", auth.account(Request::new(account)).await, &format!("account {n} not found"));
}

#[tokio::test]
async fn queries_about_an_address_that_holds_nothing_answer_empty() {
    use aegis_proto::aegis::avs::v1::query_server::Query as _;
    use aegis_proto::aegis::delegation::v1::query_server::Query as _;
    use aegis_proto::aegis::restaking::v1::query_server::Query as _;
    use aegis_proto::aegis::rewards::v1::query_server::Query as _;
    use cosmos_sdk_proto::cosmos::bank::v1beta1::query_server::Query as _;
    use cosmos_sdk_proto::cosmos::bank::v1beta1::{QueryAllBalancesRequest, QueryBalanceRequest};
    let chain = world().await;
    let st = chain.storage().clone();
    let n = nobody().to_string();

    let bank = aegis_app::bank::query::BankQuery::new(st.clone());
    let r = bank.balance(Request::new(QueryBalanceRequest { address: n.clone(), denom: NATIVE_DENOM.into() })).await.unwrap().into_inner();
    assert_eq!(r.balance.unwrap().amount, "0");
    let r = bank.all_balances(Request::new(QueryAllBalancesRequest { address: n.clone(), ..Default::default() })).await.unwrap().into_inner();
    assert_eq!(r.balances, vec![]);

    let restaking = aegis_app::restaking::query::RestakingQuery::new(st.clone());
    let r = restaking.staker_deposits(Request::new(rpb::QueryStakerDepositsRequest { staker: n.clone() })).await.unwrap().into_inner();
    assert_eq!((r.operator.as_str(), r.deposits.len()), ("", 0));
    let r = restaking.queued_withdrawals(Request::new(rpb::QueryQueuedWithdrawalsRequest { staker: n.clone(), pagination: None })).await.unwrap().into_inner();
    assert_eq!(r.withdrawals.len(), 0);

    let delegation = aegis_app::delegation::query::DelegationQuery::new(st.clone());
    let r = delegation.delegation(Request::new(dpb::QueryDelegationRequest { staker: n.clone() })).await.unwrap().into_inner();
    assert_eq!(r.operator, "");

    let rewards = aegis_app::rewards::query::RewardsQuery::new(st.clone());
    let r = rewards.pending_rewards(Request::new(wpb::QueryPendingRewardsRequest { address: n.clone() })).await.unwrap().into_inner();
    assert_eq!((r.rewards.len(), r.commission.len()), (0, 0));
    // An operator that set no commission for an existing AVS: its native rate.
    let req = wpb::QueryAvsCommissionRequest { operator: op_a().address.to_string(), avs_id: 1 };
    assert_eq!(rewards.avs_commission(Request::new(req)).await.unwrap().into_inner().commission_bps, 1_000);

    let avs = aegis_app::avs::query::AvsQuery::new(st.clone());
    let r = avs.staker_exposure(Request::new(apb::QueryStakerExposureRequest { staker: n.clone() })).await.unwrap().into_inner();
    assert_eq!((r.operator.as_str(), r.exposures.len()), ("", 0));
    // An existing set nobody joined, and an operator with nothing allocated.
    let members = apb::QueryOperatorSetMembersRequest { avs_id: 1, operator_set_id: 1, pagination: None };
    assert_eq!(avs.operator_set_members(Request::new(members)).await.unwrap().into_inner().operators.len(), 0);
    let r = avs.allocations(Request::new(apb::QueryAllocationsRequest { operator: op_a().address.to_string() })).await.unwrap().into_inner();
    assert_eq!(r.allocations.len(), 0);
}
