//! The query surface through ABCI `Query`, as CometBFT-RPC clients use it.

use aegis_app::query::abci_query;
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Coin, NATIVE_DENOM};
use cosmos_sdk_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountRequest, QueryAccountResponse};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use prost::Message;
use tendermint::abci::request;

fn query(path: &str, data: Vec<u8>, height: u32) -> request::Query {
    request::Query { data: data.into(), path: path.into(), height: height.into(), prove: false }
}

#[tokio::test]
async fn queries_answer_at_a_height_with_cosmos_codes_and_logs() {
    let alice = test_signer("alice");
    let coins = vec![Coin::new(NATIVE_DENOM, 1_000_000), Coin::new("uatom", 7), Coin::new("ustake", 9)];
    let mut chain = TestChain::new(&genesis_with(&[(alice.address, coins)])).await;
    let bob = test_signer("bob").address;
    let tx = chain.send_tx(&alice, &bob, 100).await;
    chain.block(vec![tx]).await; // height 1
    let tx = chain.send_tx(&alice, &bob, 50).await;
    chain.block(vec![tx]).await; // height 2
    let s = chain.storage();

    // Balance at each height.
    let req = QueryBalanceRequest { address: bob.to_string(), denom: NATIVE_DENOM.into() }.encode_to_vec();
    for (height, want) in [(1, "100"), (2, "150"), (0, "150")] {
        let r = abci_query(s, query("/cosmos.bank.v1beta1.Query/Balance", req.clone(), height)).await;
        assert!(r.code.is_ok(), "{}", r.log);
        assert_eq!(QueryBalanceResponse::decode(r.value.as_ref()).unwrap().balance.unwrap().amount, want);
        assert_eq!(r.height.value(), if height == 0 { 2 } else { height as u64 });
    }
    // A height not committed yet.
    let r = abci_query(s, query("/cosmos.bank.v1beta1.Query/Balance", req.clone(), 9)).await;
    assert_eq!((r.code.value(), r.codespace.as_str()), (26, "sdk"));
    assert_eq!(r.log, "invalid height: height 9 is not committed yet (latest is 2)");

    // All balances, sorted by denom, paginated by key.
    let page = |key: Vec<u8>| QueryAllBalancesRequest {
        address: alice.address.to_string(),
        pagination: Some(PageRequest { key, offset: 0, limit: 2, count_total: true, reverse: false }),
        resolve_denom: false,
    };
    let r = abci_query(s, query("/cosmos.bank.v1beta1.Query/AllBalances", page(vec![]).encode_to_vec(), 0)).await;
    let first = QueryAllBalancesResponse::decode(r.value.as_ref()).unwrap();
    let denoms: Vec<_> = first.balances.iter().map(|c| c.denom.as_str()).collect();
    assert_eq!(denoms, ["uaegis", "uatom"]);
    let p = first.pagination.unwrap();
    assert_eq!((p.next_key.as_slice(), p.total), (b"ustake".as_slice(), 3));
    let r = abci_query(s, query("/cosmos.bank.v1beta1.Query/AllBalances", page(p.next_key).encode_to_vec(), 0)).await;
    let second = QueryAllBalancesResponse::decode(r.value.as_ref()).unwrap();
    assert_eq!(second.balances.iter().map(|c| (c.denom.as_str(), c.amount.as_str())).collect::<Vec<_>>(), [("ustake", "9")]);
    assert!(second.pagination.unwrap().next_key.is_empty());

    // Accounts: found, and not found in the form cosmjs recognises.
    let r = abci_query(s, query("/cosmos.auth.v1beta1.Query/Account", QueryAccountRequest { address: alice.address.to_string() }.encode_to_vec(), 0)).await;
    let any = QueryAccountResponse::decode(r.value.as_ref()).unwrap().account.unwrap();
    assert_eq!(any.type_url, "/cosmos.auth.v1beta1.BaseAccount");
    let acc = BaseAccount::decode(any.value.as_slice()).unwrap();
    assert_eq!((acc.account_number, acc.sequence, acc.pub_key.unwrap().type_url.as_str()), (0, 2, "/cosmos.crypto.secp256k1.PubKey"));
    let stranger = test_signer("stranger").address;
    let r = abci_query(s, query("/cosmos.auth.v1beta1.Query/Account", QueryAccountRequest { address: stranger.to_string() }.encode_to_vec(), 0)).await;
    assert_eq!((r.code.value(), r.codespace.as_str()), (22, "sdk"));
    assert_eq!(r.log, format!("rpc error: code = NotFound desc = account {stranger} not found"));

    // Bad arguments and unknown paths.
    let bad = QueryBalanceRequest { address: "aegis1bad".into(), denom: NATIVE_DENOM.into() }.encode_to_vec();
    let r = abci_query(s, query("/cosmos.bank.v1beta1.Query/Balance", bad, 0)).await;
    assert_eq!(r.code.value(), 18);
    assert!(r.log.starts_with("rpc error: code = InvalidArgument desc = invalid address \"aegis1bad\""), "{}", r.log);
    let r = abci_query(s, query("/cosmos.bank.v1beta1.Query/Balance", vec![0xff, 0xff], 0)).await;
    assert_eq!(r.code.value(), 18);
    let r = abci_query(s, query("/cosmos.staking.v1beta1.Query/Validators", vec![], 0)).await;
    assert_eq!((r.code.value(), r.log.as_str()), (6, "unknown query path \"/cosmos.staking.v1beta1.Query/Validators\""));

    // Aegis's own service: the full gas schedule.
    use aegis_proto::aegis::auth::v1::QueryParamsResponse;
    let r = abci_query(s, query("/aegis.auth.v1.Query/Params", vec![], 0)).await;
    assert!(r.code.is_ok(), "{}", r.log);
    let p = QueryParamsResponse::decode(r.value.as_ref()).unwrap().params.unwrap();
    assert_eq!((p.max_memo_characters, p.tx_sig_limit, p.max_tx_gas), (256, 7, 100_000_000));
    let g = p.gas.unwrap();
    assert_eq!((g.read_flat, g.write_per_byte, g.sig_verify_secp256k1, g.per_message), (1000, 30, 1000, 500));
}

#[tokio::test]
async fn key_queries_prove_presence_and_absence_against_the_app_hash() {
    let alice = test_signer("alice");
    let mut chain = TestChain::new(&genesis_with(&[(alice.address, vec![Coin::new(NATIVE_DENOM, 42)])])).await;
    chain.block(vec![]).await;
    let root = chain.app_hash().await;
    let spec = cnidarium::ics23_spec();
    let key = aegis_app::bank::state::balance_key(&alice.address, NATIVE_DENOM);
    let r = abci_query(chain.storage(), request::Query { data: key.clone().into_bytes().into(), path: "/store/key".into(), height: 0u32.into(), prove: true }).await;
    assert_eq!(r.value.as_ref(), 42u128.to_be_bytes());
    let proof = ics23::CommitmentProof::decode(r.proof.unwrap().ops[0].data.as_slice()).unwrap();
    assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(&proof, &spec, &root, key.as_bytes(), &r.value));

    let absent = aegis_app::bank::state::balance_key(&alice.address, "uatom");
    let r = abci_query(chain.storage(), request::Query { data: absent.clone().into_bytes().into(), path: "/store/key".into(), height: 0u32.into(), prove: true }).await;
    assert!(r.code.is_ok() && r.value.is_empty());
    let proof = ics23::CommitmentProof::decode(r.proof.unwrap().ops[0].data.as_slice()).unwrap();
    assert!(ics23::verify_non_membership::<ics23::HostFunctionsManager>(&proof, &spec, &root, absent.as_bytes()));
    assert!(!ics23::verify_non_membership::<ics23::HostFunctionsManager>(&proof, &spec, &root, key.as_bytes()));
}
