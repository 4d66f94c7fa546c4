//! End-to-end: real `cometbft` and `aegisd` processes on loopback.

mod common;

use std::time::Duration;

use aegis_app::bank::state::balance_key;
use aegis_app::signer::{SignOptions, Signer};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use common::Devnet;
use cosmos_sdk_proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
use prost::Message;
use tendermint_rpc::Client;

fn recipient(seed: &str) -> Address {
    aegis_app::testkit::test_signer(seed).address
}

/// Sign a send from `from` with its on-chain account number and sequence.
async fn signed_send(net: &Devnet, node: usize, from: &Signer, to: &Address, amount: u128, fee: u128) -> Vec<u8> {
    let acc = net.grpc(node).await.account(&from.address).await.unwrap().expect("sender account");
    let mut opts = SignOptions::new(&net.chain_id, acc.account_number, acc.sequence);
    opts.fee = fee;
    opts.gas_limit = 200_000;
    from.sign(vec![from.msg_send(to, &[Coin::new(NATIVE_DENOM, amount)])], &opts).unwrap()
}

/// Every node reports the same app hash in every header from 1 to `upto`.
async fn assert_same_app_hashes(net: &Devnet, upto: u64) {
    for h in 1..=upto {
        let first = net.header_app_hash(0, h).await;
        for i in 1..net.nodes.len() {
            assert_eq!(net.header_app_hash(i, h).await, first, "app hash of {} differs at height {h}", net.nodes[i].moniker);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_commit_a_grpc_msgsend_and_agree_on_app_hashes() {
    let net = Devnet::start(4, 27000).await;
    let faucet = net.faucet();
    let to = recipient("e2e-recipient");
    let faucet_before = net.grpc(0).await.balance(&faucet.address, NATIVE_DENOM).await.unwrap();

    // Broadcast through node 1's gRPC, find the result through node 2's.
    let tx = signed_send(&net, 1, &faucet, &to, 777_000, 5_000).await;
    let sent = net.grpc(1).await.broadcast(tx).await.unwrap();
    assert_eq!(sent.code, 0, "CheckTx: {}", sent.raw_log);
    let result = net.grpc(2).await.wait_for_tx(&sent.txhash, Duration::from_secs(30)).await.unwrap();
    assert_eq!(result.code, 0, "{}", result.raw_log);
    assert!(result.height > 0);
    let height = result.height as u64;

    // Balances over gRPC (node 3)...
    let g3 = net.grpc(3).await;
    net.wait_height(3, height, Duration::from_secs(30)).await;
    assert_eq!(g3.balance(&to, NATIVE_DENOM).await.unwrap(), 777_000);
    assert_eq!(g3.balance(&faucet.address, NATIVE_DENOM).await.unwrap(), faucet_before - 777_000 - 5_000);

    // Supply conservation on the live chain, at the tx's height (rewards
    // mint every block): per denom, total supply equals the sum of every
    // holder's balance (genesis accounts, the recipient, the fee collector,
    // the distribution module and the restaking pools).
    use cosmos_sdk_proto::cosmos::bank::v1beta1::{query_client::QueryClient, QueryTotalSupplyRequest};
    let at = |height: u64| -> tonic::metadata::MetadataValue<tonic::metadata::Ascii> { height.to_string().parse().unwrap() };
    let mut bank = QueryClient::new(net.grpc(0).await.channel());
    let mut req = tonic::Request::new(QueryTotalSupplyRequest { pagination: None });
    req.metadata_mut().insert(aegis_app::query::HEIGHT_METADATA, at(height));
    let supply = bank.total_supply(req).await.unwrap().into_inner().supply;
    let denoms: Vec<&str> = supply.iter().map(|c| c.denom.as_str()).collect();
    assert_eq!(denoms, ["stuaegis", "uaegis", "uqaegis"]);
    let mut holders: Vec<Address> = net.accounts.iter().map(|(_, a, _)| Address::parse(a).unwrap()).collect();
    holders.push(to);
    holders.push(Address::module("fee_collector"));
    holders.push(Address::module(aegis_app::rewards::DISTRIBUTION));
    holders.extend(denoms.iter().map(|d| aegis_app::restaking::pool_address(d)));
    for coin in &supply {
        let mut sum = 0u128;
        for h in &holders {
            let mut req = tonic::Request::new(QueryBalanceRequest { address: h.to_string(), denom: coin.denom.clone() });
            req.metadata_mut().insert(aegis_app::query::HEIGHT_METADATA, at(height));
            sum += bank.balance(req).await.unwrap().into_inner().balance.unwrap().amount.parse::<u128>().unwrap();
        }
        assert_eq!(coin.amount, sum.to_string(), "supply of {}", coin.denom);
    }
    // The fee sits in the fee collector until the next block hands it to the distribution module.
    let mut req = tonic::Request::new(QueryBalanceRequest { address: Address::module("fee_collector").to_string(), denom: NATIVE_DENOM.into() });
    req.metadata_mut().insert(aegis_app::query::HEIGHT_METADATA, at(height));
    assert_eq!(bank.balance(req).await.unwrap().into_inner().balance.unwrap().amount, "5000");

    // ...and over ABCI query at the gRPC method path, through CometBFT RPC (node 0).
    let req = QueryBalanceRequest { address: to.to_string(), denom: NATIVE_DENOM.into() };
    let q = net
        .rpc(0)
        .abci_query(Some("/cosmos.bank.v1beta1.Query/Balance".into()), req.encode_to_vec(), Some(height.try_into().unwrap()), false)
        .await
        .unwrap();
    assert!(q.code.is_ok(), "{}", q.log);
    assert_eq!(q.height.value(), height);
    let resp = QueryBalanceResponse::decode(q.value.as_slice()).unwrap();
    assert_eq!(resp.balance.unwrap().amount, "777000");

    // A raw key query with prove=true returns an ICS23 proof of the balance
    // that verifies against the app hash committed in the next header.
    let key = balance_key(&to, NATIVE_DENOM);
    let q = net.rpc(0).abci_query(Some("/store/key".into()), key.as_bytes().to_vec(), Some(height.try_into().unwrap()), true).await.unwrap();
    assert!(q.code.is_ok(), "{}", q.log);
    assert_eq!(q.value, 777_000u128.to_be_bytes().to_vec());
    net.wait_height(0, height + 1, Duration::from_secs(30)).await;
    let root = net.header_app_hash(0, height + 1).await;
    let ops = q.proof.expect("proof requested").ops;
    assert_eq!(ops.len(), 1);
    let proof = ics23::CommitmentProof::decode(ops[0].data.as_slice()).unwrap();
    assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(&proof, &cnidarium::ics23_spec(), &root, key.as_bytes(), &q.value));
    // The same proof does not verify a different value.
    assert!(!ics23::verify_membership::<ics23::HostFunctionsManager>(&proof, &cnidarium::ics23_spec(), &root, key.as_bytes(), &1u128.to_be_bytes()));

    // Block queries over gRPC carry CometBFT's block and the SDK-shaped one.
    use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::{service_client::ServiceClient, GetBlockByHeightRequest};
    let b = ServiceClient::new(net.grpc(1).await.channel())
        .get_block_by_height(GetBlockByHeightRequest { height: (height + 1) as i64 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(b.block.unwrap().header.unwrap().app_hash, root);
    let sdk = b.sdk_block.unwrap().header.unwrap();
    assert_eq!((sdk.height, sdk.chain_id.as_str(), sdk.app_hash), ((height + 1) as i64, "aegis-e2e", root.clone()));
    assert!(sdk.proposer_address.starts_with("aegisvalcons1"), "{}", sdk.proposer_address);

    let common = {
        let mut m = u64::MAX;
        for i in 0..4 {
            m = m.min(net.height(i).await);
        }
        m
    };
    assert!(common > height);
    assert_same_app_hashes(&net, common).await;

    // Every node's Prometheus endpoint counted exactly the one transaction.
    for i in 0..4 {
        let text = net.metrics_text(i);
        assert!(text.contains("aegis_txs_total{result=\"ok\"} 1\n"), "node {i}:\n{text}");
        assert!(text.contains("aegis_txs_total{result=\"failed\"} 0\n"), "node {i}:\n{text}");
        let h: f64 = text.lines().find_map(|l| l.strip_prefix("aegis_block_height ")).unwrap().parse().unwrap();
        assert!(h as u64 >= height, "node {i} block height gauge {h}");
        assert!(text.contains("aegis_abci_duration_seconds{method=\"commit\""), "node {i}:\n{text}");
        assert!(text.contains("cnidarium_get_raw_duration_seconds"), "node {i}: no storage metrics");
    }
    assert!(net.metrics_text(1).contains("aegis_checktx_total{kind=\"new\",result=\"accepted\"} 1\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_aegisd_catches_up_through_the_handshake_without_losing_state() {
    let mut net = Devnet::start(4, 27100).await;
    let faucet = net.faucet();
    let to = recipient("crash-recipient");

    let tx = signed_send(&net, 0, &faucet, &to, 1_000, 5_000).await;
    let r = net.grpc(0).await.broadcast(tx).await.unwrap();
    assert_eq!(r.code, 0, "{}", r.raw_log);
    let first = net.grpc(0).await.wait_for_tx(&r.txhash, Duration::from_secs(30)).await.unwrap();
    net.wait_height(3, first.height as u64, Duration::from_secs(30)).await;

    // kill -9 node 3's application mid-run; its CometBFT loses the ABCI
    // connection and is stopped too, as an operator's supervisor would.
    net.kill_aegisd(3);
    tokio::time::sleep(Duration::from_millis(500)).await;
    net.kill_cometbft(3);

    // The other three (75% of the power) keep committing, including a tx.
    let tx = signed_send(&net, 0, &faucet, &to, 2_000, 5_000).await;
    let r = net.grpc(0).await.broadcast(tx).await.unwrap();
    assert_eq!(r.code, 0, "{}", r.raw_log);
    let second = net.grpc(0).await.wait_for_tx(&r.txhash, Duration::from_secs(30)).await.unwrap();
    let target = second.height as u64 + 3;
    net.wait_height(0, target, Duration::from_secs(30)).await;

    // Restart: the Info handshake reports the last committed height, and
    // CometBFT replays the missing blocks into the app.
    net.start_aegisd(3);
    net.start_cometbft(3);
    net.wait_height(3, target, Duration::from_secs(90)).await;
    assert_eq!(net.grpc(3).await.balance(&to, NATIVE_DENOM).await.unwrap(), 3_000);
    assert_same_app_hashes(&net, target).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checktx_rejects_bad_transactions_with_clear_codes_and_changes_nothing() {
    let net = Devnet::start(4, 27200).await;
    let faucet = net.faucet();
    let to = recipient("bad-input-recipient");
    let g = net.grpc(0).await;
    let before = g.balance(&faucet.address, NATIVE_DENOM).await.unwrap();

    let r = g.broadcast(vec![1, 2, 3, 4]).await.unwrap();
    assert_eq!((r.code, r.codespace.as_str()), (2, "sdk"), "{}", r.raw_log);

    // Fee below the node's minimum gas price (0.025uaegis x 200000 = 5000).
    let cheap = signed_send(&net, 0, &faucet, &to, 10, 4_999).await;
    let r = g.broadcast(cheap).await.unwrap();
    assert_eq!((r.code, r.codespace.as_str()), (13, "sdk"), "{}", r.raw_log);
    assert!(r.raw_log.contains("required 5000uaegis"), "{}", r.raw_log);

    // Signed for another chain.
    let acc = g.account(&faucet.address).await.unwrap().unwrap();
    let other = faucet.sign(vec![faucet.msg_send(&to, &[Coin::new(NATIVE_DENOM, 10)])], &SignOptions::new("other-chain", acc.account_number, acc.sequence)).unwrap();
    let r = g.broadcast(other).await.unwrap();
    assert_eq!((r.code, r.codespace.as_str()), (4, "sdk"), "{}", r.raw_log);

    // A key with no account on chain.
    let stranger = aegis_app::testkit::test_signer("stranger");
    let s = stranger.sign(vec![stranger.msg_send(&to, &[Coin::new(NATIVE_DENOM, 10)])], &SignOptions::new(&net.chain_id, 0, 0)).unwrap();
    let r = g.broadcast(s).await.unwrap();
    assert_eq!((r.code, r.codespace.as_str()), (9, "sdk"), "{}", r.raw_log);

    // A good tx, then its replay.
    let good = signed_send(&net, 0, &faucet, &to, 10, 5_000).await;
    let r = g.broadcast(good.clone()).await.unwrap();
    assert_eq!(r.code, 0, "{}", r.raw_log);
    g.wait_for_tx(&r.txhash, Duration::from_secs(30)).await.unwrap();
    let r = g.broadcast(good).await.unwrap();
    assert_eq!((r.code, r.codespace.as_str()), (19, "sdk"), "{}", r.raw_log);
    // A different tx reusing the spent sequence is refused by the app.
    let stale = faucet.sign(vec![faucet.msg_send(&to, &[Coin::new(NATIVE_DENOM, 11)])], &SignOptions::new(&net.chain_id, acc.account_number, acc.sequence)).unwrap();
    let r = g.broadcast(stale).await.unwrap();
    assert_eq!((r.code, r.codespace.as_str()), (32, "sdk"), "{}", r.raw_log);
    assert!(r.raw_log.contains(&format!("expected {}, got {}", acc.sequence + 1, acc.sequence)), "{}", r.raw_log);

    // Only the good tx moved funds.
    assert_eq!(g.balance(&to, NATIVE_DENOM).await.unwrap(), 10);
    assert_eq!(g.balance(&faucet.address, NATIVE_DENOM).await.unwrap(), before - 10 - 5_000);
}
