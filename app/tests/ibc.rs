//! IBC between two in-process Aegis chains on real RocksDB state: clients
//! verified with each chain's real signed headers, ICS23 proofs from the
//! counterparty's committed state, the connection and channel handshakes,
//! and ICS-20 transfers, through signed transactions (the relayer's batch of
//! a client update plus the packets, in one transaction). The test kit
//! checks supply and the other invariants after every block.

use std::time::Duration;

use aegis_app::ibc::transfer::{denom_hash, escrow_address};
use aegis_app::ibc::IbcRead;
use aegis_app::signer::{pack, Signer};
use aegis_app::testkit::ibc::{ok, sent_packets, written_acks, Relayer, Side};
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use ibc_proto::ibc::applications::transfer::v1::MsgTransfer;
use ibc_proto::ibc::core::client::v1::Height as RawHeight;

const FUNDS: u128 = 1_000_000_000_000;
/// Default restaking withdrawal delay: the unbonding period clients use.
const UNBONDING: Duration = Duration::from_secs(7 * 24 * 3600);

fn alice() -> Signer {
    test_signer("alice")
}
fn bob() -> Signer {
    test_signer("bob")
}
fn relayer_a() -> Signer {
    test_signer("relayer-a")
}
fn relayer_b() -> Signer {
    test_signer("relayer-b")
}

async fn chains() -> (TestChain, TestChain, Relayer) {
    let funded = |signers: &[Signer]| genesis_with(&signers.iter().map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, FUNDS)])).collect::<Vec<_>>());
    let mut a = TestChain::with_chain_id(&funded(&[alice(), relayer_a()]), "aegis-a").await;
    let mut b = TestChain::with_chain_id(&funded(&[bob(), relayer_b()]), "aegis-b").await;
    a.block(vec![]).await;
    b.block(vec![]).await;
    let mut r = Relayer::new(relayer_a(), relayer_b(), UNBONDING);
    r.setup_transfer(&mut a, &mut b).await;
    (a, b, r)
}

fn transfer(from: &Signer, channel: &str, to: &Address, denom: &str, amount: u128, timeout_height: u64) -> cosmrs::Any {
    aegis_app::testkit::ibc::transfer_msg(&from.address, channel, &to.to_string(), denom, amount, timeout_height)
}

#[tokio::test]
async fn transfer_there_and_back_restores_balances_and_names_the_path() {
    let (mut a, mut b, mut r) = chains().await;
    assert_eq!(r.ids.chan_on_a, "channel-0");
    assert_eq!(r.ids.chan_on_b, "channel-0");
    let supply_a = a.supply(NATIVE_DENOM).await;
    let escrow = escrow_address("transfer", "channel-0");
    let voucher = format!("ibc/{}", denom_hash("transfer/channel-0/uaegis"));

    // A -> B: alice's tokens are escrowed on A, bob gets vouchers on B.
    let out = a.exec(&alice(), vec![transfer(&alice(), "channel-0", &bob().address, NATIVE_DENOM, 1_000_000, 10_000)]).await;
    ok(&out, "transfer A -> B");
    assert_eq!(a.balance(&alice().address, NATIVE_DENOM).await, FUNDS - 1_000_000);
    assert_eq!(a.balance(&escrow, NATIVE_DENOM).await, 1_000_000);
    assert_eq!(a.supply(NATIVE_DENOM).await, supply_a, "escrow keeps A's supply");
    let packets = sent_packets(&out.events);
    assert_eq!(packets.len(), 1);
    assert_eq!(packets[0].sequence, 1);

    let msgs = r.recv_batch(&mut a, &mut b, Side::A, &packets).await;
    assert_eq!(msgs.len(), 2, "one client update and one receive, in one transaction");
    let out = b.exec(&relayer_b(), msgs).await;
    ok(&out, "receive on B");
    assert_eq!(b.balance(&bob().address, &voucher).await, 1_000_000);
    assert_eq!(b.supply(&voucher).await, 1_000_000);
    let trace = b.storage().latest_snapshot().denom_trace(&voucher[4..]).await.unwrap().expect("denom trace");
    assert_eq!((trace.path.as_str(), trace.base_denom.as_str()), ("transfer/channel-0", "uaegis"));

    let acks = written_acks(&out.events);
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].1, br#"{"result":"AQ=="}"#.to_vec(), "ICS-20 success acknowledgement");
    let msgs = r.ack_batch(&mut b, &mut a, Side::B, &acks).await;
    let out = a.exec(&relayer_a(), msgs).await;
    ok(&out, "ack on A");

    // B -> A: the vouchers burn on B and alice's tokens leave escrow on A.
    let out = b.exec(&bob(), vec![transfer(&bob(), "channel-0", &alice().address, &voucher, 1_000_000, 10_000)]).await;
    ok(&out, "transfer B -> A");
    assert_eq!(b.balance(&bob().address, &voucher).await, 0);
    assert_eq!(b.supply(&voucher).await, 0, "vouchers going home are burned");
    let packets = sent_packets(&out.events);
    let msgs = r.recv_batch(&mut b, &mut a, Side::B, &packets).await;
    let out = a.exec(&relayer_a(), msgs).await;
    ok(&out, "receive on A");
    let acks = written_acks(&out.events);
    let msgs = r.ack_batch(&mut a, &mut b, Side::A, &acks).await;
    ok(&b.exec(&relayer_b(), msgs).await, "ack on B");

    assert_eq!(a.balance(&alice().address, NATIVE_DENOM).await, FUNDS);
    assert_eq!(a.balance(&escrow, NATIVE_DENOM).await, 0);
    assert_eq!(a.supply(NATIVE_DENOM).await, supply_a);
}

/// Every IBC key and value except this chain's own consensus states (which
/// change every block by design).
async fn ibc_state(c: &TestChain) -> Vec<(String, Vec<u8>)> {
    let snap = c.storage().latest_snapshot();
    aegis_app::ibc::state::scan_raw(&snap, "ibc/").await.unwrap().into_iter().filter(|(k, _)| !k.starts_with("hostConsensusStates/")).collect()
}

#[tokio::test]
async fn ibc_keys_live_in_the_substore_at_ics24_paths() {
    let (a, _b, r) = chains().await;
    let keys: Vec<String> = ibc_state(&a).await.into_iter().map(|(k, _)| k).collect();
    for expected in [
        format!("clients/{}/clientState", r.ids.client_on_a),
        format!("connections/{}", r.ids.conn_on_a),
        format!("channelEnds/ports/transfer/channels/{}", r.ids.chan_on_a),
        "nextSequenceSend/ports/transfer/channels/channel-0".to_string(),
        "nextClientSequence".to_string(),
    ] {
        assert!(keys.contains(&expected), "{expected} missing from {keys:?}");
    }
}

fn err_of(o: &aegis_app::app::TxOutcome) -> (String, u32, String) {
    let e = o.result.clone().expect_err("the message must be rejected");
    (e.codespace.to_string(), e.code, e.message)
}

#[tokio::test]
async fn forged_and_foreign_headers_are_rejected_and_change_nothing() {
    use aegis_app::testkit::ibc::header_msg;
    use aegis_app::testkit::light::make_signed_header;
    let (mut a, mut b, r) = chains().await;
    b.block(vec![]).await;
    a.time = a.time.max(b.time);
    let h = b.height;
    let honest = b.light.headers[&h].clone();
    let time = (honest.header.time.unix_timestamp(), 0);
    let app_hash = honest.header.app_hash.as_bytes().to_vec();
    let vals = b.light.validators.clone();
    let before = ibc_state(&a).await;

    // Signed by one validator of four: below the trust level and below 2/3.
    let weak = make_signed_header("aegis-b", h, time, &app_hash, &vals, &vals, &b.light.keys[..1], honest.header.last_block_id);
    let out = a.exec(&relayer_a(), vec![header_msg(&b, &r.ids.client_on_a, r.trusted_on_a, weak, &relayer_a())]).await;
    let (space, code, msg) = err_of(&out);
    assert_eq!((space.as_str(), code), ("ibc", 2));
    assert!(msg.contains("insufficient validator overlap") && msg.contains("total=40 tallied=10 trust_threshold=1/3"), "{msg}");
    assert_eq!(ibc_state(&a).await, before);

    // Another chain's header, signed by the same keys.
    let foreign = make_signed_header("aegis-x", h, time, &app_hash, &vals, &vals, &b.light.keys, honest.header.last_block_id);
    let out = a.exec(&relayer_a(), vec![header_msg(&b, &r.ids.client_on_a, r.trusted_on_a, foreign, &relayer_a())]).await;
    let (space, code, msg) = err_of(&out);
    assert_eq!((space.as_str(), code), ("ibc", 2));
    assert!(msg.contains("chain-id mismatch: got=aegis-x expected=aegis-b"), "{msg}");
    assert_eq!(ibc_state(&a).await, before);

    // Signed by keys that are not B's validators at all.
    let strangers: Vec<_> = (0..4).map(|i| aegis_app::testkit::light::validator_key(&format!("stranger{i}"))).collect();
    let stranger_set = aegis_app::testkit::light::validator_set(&strangers, 10);
    let forged = make_signed_header("aegis-b", h, time, &app_hash, &stranger_set, &stranger_set, &strangers, honest.header.last_block_id);
    let out = a.exec(&relayer_a(), vec![header_msg(&b, &r.ids.client_on_a, r.trusted_on_a, forged, &relayer_a())]).await;
    let (space, code, msg) = err_of(&out);
    assert_eq!((space.as_str(), code), ("ibc", 2));
    assert!(msg.contains("mismatched validator hashes"), "{msg}");
    assert_eq!(ibc_state(&a).await, before);
}

#[tokio::test]
async fn conflicting_headers_at_one_height_freeze_the_client() {
    use aegis_app::testkit::ibc::header_msg;
    use aegis_app::testkit::light::make_signed_header;
    let (mut a, mut b, r) = chains().await;
    b.block(vec![]).await;
    a.time = a.time.max(b.time);
    let h = b.height;
    let honest = b.light.headers[&h].clone();
    ok(&a.exec(&relayer_a(), vec![header_msg(&b, &r.ids.client_on_a, r.trusted_on_a, honest.clone(), &relayer_a())]).await, "honest update");
    // The same validators sign a second, different block at height h.
    let time = (honest.header.time.unix_timestamp(), 0);
    let vals = b.light.validators.clone();
    let twin = make_signed_header("aegis-b", h, time, &[7u8; 32], &vals, &vals, &b.light.keys, honest.header.last_block_id);
    let out = a.exec(&relayer_a(), vec![header_msg(&b, &r.ids.client_on_a, r.trusted_on_a, twin, &relayer_a())]).await;
    ok(&out, "misbehaviour is accepted as evidence");
    assert!(out.events.iter().any(|e| e.kind == "client_misbehaviour"), "a client_misbehaviour event");
    let cs = ibc_state(&a).await.into_iter().find(|(k, _)| *k == format!("clients/{}/clientState", r.ids.client_on_a)).unwrap().1;
    let cs = <ibc_client_tendermint::client_state::ClientState as ibc_core::primitives::proto::Protobuf<ibc_core::primitives::proto::Any>>::decode_vec(&cs).unwrap();
    assert!(cs.inner().is_frozen(), "the client is frozen");
    // Frozen: even the next honest header is refused.
    b.block(vec![]).await;
    a.time = a.time.max(b.time);
    let next = b.light.headers[&b.height].clone();
    let out = a.exec(&relayer_a(), vec![header_msg(&b, &r.ids.client_on_a, h, next, &relayer_a())]).await;
    let (space, code, msg) = err_of(&out);
    assert_eq!((space.as_str(), code), ("ibc", 2));
    assert!(msg.contains("invalid status `Frozen`"), "{msg}");
}

fn recv_of(msg: &cosmrs::Any) -> ibc_proto::ibc::core::channel::v1::MsgRecvPacket {
    prost::Message::decode(msg.value.as_slice()).unwrap()
}

#[tokio::test]
async fn bad_packet_proofs_replays_and_unknown_acks_change_nothing() {
    use ibc_proto::ibc::core::channel::v1 as ch;
    let (mut a, mut b, mut r) = chains().await;
    let voucher = format!("ibc/{}", denom_hash("transfer/channel-0/uaegis"));
    let out = a.exec(&alice(), vec![transfer(&alice(), "channel-0", &bob().address, NATIVE_DENOM, 500, 10_000)]).await;
    ok(&out, "transfer");
    let packets = sent_packets(&out.events);
    let msgs = r.recv_batch(&mut a, &mut b, Side::A, &packets).await;
    ok(&b.exec(&relayer_b(), vec![msgs[0].clone()]).await, "client update");
    let good = recv_of(&msgs[1]);
    let before = ibc_state(&b).await;

    // A flipped byte in the commitment proof.
    let mut flipped = good.clone();
    let n = flipped.proof_commitment.len();
    flipped.proof_commitment[n / 2] ^= 1;
    let out = b.exec(&relayer_b(), vec![pack("/ibc.core.channel.v1.MsgRecvPacket", &flipped)]).await;
    let (space, code, msg) = err_of(&out);
    assert_eq!((space.as_str(), code), ("ibc", 4), "{msg}");
    assert_eq!(ibc_state(&b).await, before);

    // The right proof claimed at the wrong height (one B's client does not have).
    let mut wrong_height = good.clone();
    wrong_height.proof_height.as_mut().unwrap().revision_height -= 1;
    let out = b.exec(&relayer_b(), vec![pack("/ibc.core.channel.v1.MsgRecvPacket", &wrong_height)]).await;
    let (space, code, msg) = err_of(&out);
    assert_eq!((space.as_str(), code), ("ibc", 4), "{msg}");
    assert_eq!(ibc_state(&b).await, before);
    assert_eq!(b.balance(&bob().address, &voucher).await, 0);

    // The real one, then the same again: ibc-go's answer to a redundant relay
    // is success with result NOOP, and nothing is minted twice.
    let out = b.exec(&relayer_b(), vec![pack("/ibc.core.channel.v1.MsgRecvPacket", &good)]).await;
    ok(&out, "receive");
    assert_eq!(recv_result(&out), 2, "SUCCESS");
    assert_eq!(b.balance(&bob().address, &voucher).await, 500);
    let out = b.exec(&relayer_b(), vec![pack("/ibc.core.channel.v1.MsgRecvPacket", &good)]).await;
    ok(&out, "redundant receive");
    assert_eq!(recv_result(&out), 1, "NOOP");
    assert_eq!(b.balance(&bob().address, &voucher).await, 500);
    assert_eq!(b.supply(&voucher).await, 500);

    // An acknowledgement for a packet A never sent.
    let before_a = ibc_state(&a).await;
    let mut never = packets[0].clone();
    never.sequence = 99;
    let ack = ch::MsgAcknowledgement {
        packet: Some(never),
        acknowledgement: br#"{"result":"AQ=="}"#.to_vec(),
        proof_acked: vec![1, 2, 3],
        proof_height: good.proof_height,
        signer: relayer_a().address.to_string(),
    };
    let out = a.exec(&relayer_a(), vec![pack("/ibc.core.channel.v1.MsgAcknowledgement", &ack)]).await;
    let (space, code, msg) = err_of(&out);
    assert_eq!((space.as_str(), code), ("ibc", 8));
    assert!(msg.contains("packet 99 was never sent on transfer/channel-0 (next sequence to send is 2)"), "{msg}");
    assert_eq!(ibc_state(&a).await, before_a);

    // A timeout for the packet B received: B cannot prove non-receipt, and
    // the receipt's existence proof does not pass for one.
    let msgs = r.timeout_batch(&mut b, &mut a, Side::B, &packets).await;
    ok(&a.exec(&relayer_a(), vec![msgs[0].clone()]).await, "client update on A");
    let before_a = ibc_state(&a).await;
    let out = a.exec(&relayer_a(), vec![msgs[1].clone()]).await;
    let (space, code, msg) = err_of(&out);
    assert_eq!((space.as_str(), code), ("ibc", 4), "{msg}");
    assert_eq!(ibc_state(&a).await, before_a);
    assert_eq!(a.balance(&alice().address, NATIVE_DENOM).await, FUNDS - 500, "no refund for a delivered packet");
}

fn recv_result(o: &aegis_app::app::TxOutcome) -> i32 {
    use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
    let data = <TxMsgData as prost::Message>::decode(o.data.as_slice()).unwrap();
    let any = data.msg_responses.last().unwrap();
    assert_eq!(any.type_url, "/ibc.core.channel.v1.MsgRecvPacketResponse");
    <ibc_proto::ibc::core::channel::v1::MsgRecvPacketResponse as prost::Message>::decode(any.value.as_slice()).unwrap().result
}

#[tokio::test]
async fn a_timed_out_transfer_is_refunded_with_a_proof_of_non_receipt() {
    let (mut a, mut b, mut r) = chains().await;
    let escrow = escrow_address("transfer", "channel-0");
    let timeout = b.height + 2;
    let out = a.exec(&alice(), vec![transfer(&alice(), "channel-0", &bob().address, NATIVE_DENOM, 700, timeout)]).await;
    ok(&out, "transfer");
    assert_eq!(a.balance(&escrow, NATIVE_DENOM).await, 700);
    let packets = sent_packets(&out.events);
    // The relayer is away while B passes the timeout height.
    while b.height < timeout {
        b.block(vec![]).await;
    }
    // Too late to deliver: B refuses the receive.
    let msgs = r.recv_batch(&mut a, &mut b, Side::A, &packets).await;
    let out = b.exec(&relayer_b(), msgs).await;
    let (space, code, msg) = err_of(&out);
    assert_eq!((space.as_str(), code), ("ibc", 4), "{msg}");
    // A timeout proven by B's non-receipt refunds alice.
    let msgs = r.timeout_batch(&mut b, &mut a, Side::B, &packets).await;
    let out = a.exec(&relayer_a(), msgs).await;
    ok(&out, "timeout");
    assert_eq!(a.balance(&alice().address, NATIVE_DENOM).await, FUNDS);
    assert_eq!(a.balance(&escrow, NATIVE_DENOM).await, 0);
    assert!(out.events.iter().any(|e| e.kind == "timeout_packet"));
}

#[tokio::test]
async fn a_header_past_the_trusting_period_is_refused() {
    use aegis_app::testkit::ibc::header_msg;
    let (mut a, mut b, r) = chains().await;
    // Trusting period: 2/3 of the 7-day unbonding period. Both chains move
    // past it without a client update.
    let trusting = UNBONDING.as_secs() as i64 * 2 / 3;
    b.skip_time(trusting + 60);
    b.block(vec![]).await;
    a.time = a.time.max(b.time);
    let before = ibc_state(&a).await;
    let header = b.light.headers[&b.height].clone();
    let out = a.exec(&relayer_a(), vec![header_msg(&b, &r.ids.client_on_a, r.trusted_on_a, header, &relayer_a())]).await;
    let (space, code, msg) = err_of(&out);
    assert_eq!((space.as_str(), code), ("ibc", 2));
    assert!(msg.contains("Expired"), "{msg}");
    assert_eq!(ibc_state(&a).await, before);
}

/// Sign with a gas limit large enough for a relayer's big batch.
async fn sign_big(c: &TestChain, from: &Signer, msgs: Vec<cosmrs::Any>) -> Vec<u8> {
    use aegis_app::signer::SignOptions;
    let (number, sequence) = c.account(&from.address).await.unwrap();
    from.sign(msgs, &SignOptions { fee: 0, gas_limit: 90_000_000, ..SignOptions::new(&c.chain_id, number, sequence) }).unwrap()
}

/// A client update and 100 receives in one transaction, the relayer's batch.
#[test]
fn a_relayer_batch_of_100_receives_in_one_transaction() {
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (mut a, mut b, mut r) = chains().await;
            let voucher = format!("ibc/{}", denom_hash("transfer/channel-0/uaegis"));
            let sends: Vec<_> = (0..100).map(|_| transfer(&alice(), "channel-0", &bob().address, NATIVE_DENOM, 10, 10_000)).collect();
            let tx = sign_big(&a, &alice(), sends).await;
            let out = a.block(vec![tx]).await.tx_results.remove(0);
            ok(&out, "100 transfers");
            let packets = sent_packets(&out.events);
            assert_eq!(packets.len(), 100);
            let msgs = r.recv_batch(&mut a, &mut b, Side::A, &packets).await;
            assert_eq!(msgs.len(), 101);
            let tx = sign_big(&b, &relayer_b(), msgs).await;
            let out = b.block(vec![tx]).await.tx_results.remove(0);
            ok(&out, "a batch of 100 receives");
            assert_eq!(b.balance(&bob().address, &voucher).await, 1_000);
            assert_eq!(written_acks(&out.events).len(), 100);
        });
        done.send(()).unwrap();
    });
    wait.recv_timeout(std::time::Duration::from_secs(300)).expect("the batch did not finish within 300 s (a hang in the sync bridge?)");
}

/// Run `body` on its own thread and runtime; a hang fails the test instead
/// of stalling the suite.
fn within(seconds: u64, body: impl std::future::Future<Output = ()> + Send + 'static) {
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(body);
        done.send(()).unwrap();
    });
    wait.recv_timeout(std::time::Duration::from_secs(seconds)).unwrap_or_else(|_| panic!("did not finish within {seconds} s (a hang?)"));
}

/// A client holding 200 consensus states is updated again: ibc-rs lists
/// every stored height on each update, a 200-item scan driven from its
/// synchronous handler. (Past tokio's cooperative budget such a scan once
/// parked forever, which would have halted the chain.)
#[test]
fn a_client_with_200_consensus_states_still_updates() {
    within(120, async {
        use aegis_app::testkit::ibc::update_client_msg;
        let (mut a, mut b, mut r) = chains().await;
        for _ in 0..200 {
            b.block(vec![]).await;
            a.time = a.time.max(b.time);
            let msg = update_client_msg(&b, &r.ids.client_on_a, r.trusted_on_a, b.height, &relayer_a());
            ok(&a.exec(&relayer_a(), vec![msg]).await, "update");
            r.trusted_on_a = b.height;
        }
        let heights = ibc_state(&a).await.into_iter().filter(|(k, _)| k.starts_with(&format!("clients/{}/consensusHeights/", r.ids.client_on_a))).count();
        assert!(heights > 200, "{heights} consensus states kept");
    });
}

#[tokio::test]
async fn a_transfer_to_a_receiver_that_is_not_an_address_is_refunded() {
    let (mut a, mut b, mut r) = chains().await;
    let escrow = escrow_address("transfer", "channel-0");
    let mut msg = transfer(&alice(), "channel-0", &bob().address, NATIVE_DENOM, 900, 10_000);
    let mut raw: MsgTransfer = prost::Message::decode(msg.value.as_slice()).unwrap();
    raw.receiver = "not-an-address".into();
    msg.value = prost::Message::encode_to_vec(&raw);
    let out = a.exec(&alice(), vec![msg]).await;
    ok(&out, "transfer");
    let packets = sent_packets(&out.events);
    let msgs = r.recv_batch(&mut a, &mut b, Side::A, &packets).await;
    let out = b.exec(&relayer_b(), msgs).await;
    ok(&out, "receive");
    // An error acknowledgement, as JSON any sender can parse, whatever the
    // error message quotes.
    let acks = written_acks(&out.events);
    let ack: serde_json::Value = serde_json::from_slice(&acks[0].1).expect("the ack is JSON");
    let error = ack["error"].as_str().expect("an error ack");
    assert!(error.contains(r#"invalid address "not-an-address""#), "{error}");
    // Relayed back, it refunds alice.
    let msgs = r.ack_batch(&mut b, &mut a, Side::B, &acks).await;
    let out = a.exec(&relayer_a(), msgs).await;
    ok(&out, "acknowledgement");
    assert_eq!(a.balance(&alice().address, NATIVE_DENOM).await, FUNDS);
    assert_eq!(a.balance(&escrow, NATIVE_DENOM).await, 0);
}

#[tokio::test]
async fn a_transfer_packet_of_nothing_is_acknowledged_with_an_error() {
    use aegis_app::testkit::ibc::send_raw_packet;
    let (mut a, mut b, mut r) = chains().await;
    let voucher = format!("ibc/{}", denom_hash("transfer/channel-0/uatom"));
    let bob = bob().address.to_string();
    // No amount (ibc-rs reads it as zero) and no sender; then a zero amount.
    for (data, why) in [
        (serde_json::json!({ "denom": "uatom", "receiver": bob }), "transfer amount must be positive, got 0"),
        (serde_json::json!({ "denom": "uatom", "amount": "0", "sender": "x", "receiver": bob }), "transfer amount must be positive, got 0"),
        (serde_json::json!({ "denom": "uatom", "amount": "5", "sender": " ", "receiver": bob }), "sender address cannot be blank"),
    ] {
        let packet = send_raw_packet(&mut a, "transfer", "channel-0", serde_json::to_vec(&data).unwrap(), 10_000).await.unwrap();
        let msgs = r.recv_batch(&mut a, &mut b, Side::A, &[packet]).await;
        let out = b.exec(&relayer_b(), msgs).await;
        ok(&out, "receive");
        let acks = written_acks(&out.events);
        let ack: serde_json::Value = serde_json::from_slice(&acks[0].1).unwrap();
        assert_eq!(ack, serde_json::json!({ "error": why }), "for {data}");
        assert!(out.events.iter().any(|e| e.kind == "fungible_token_packet"), "the module's receive event");
    }
    assert_eq!(b.supply(&voucher).await, 0);
    assert!(b.storage().latest_snapshot().denom_trace(&voucher[4..]).await.unwrap().is_none(), "no trace for a voucher never minted");
}

/// ibc-rs encodes packet events with the data as a string too (ibc-go's
/// deprecated `packet_data` attribute), which fails for data that is not
/// UTF-8; Aegis then emits `packet_data` lossily and `packet_data_hex`
/// exactly, so such a packet is received (here with an ICS-20 error
/// acknowledgement, since it is not JSON) instead of being unreceivable.
#[tokio::test]
async fn a_packet_whose_data_is_not_utf8_is_received() {
    use aegis_app::ibc::context::IbcContext;
    use ibc_core::channel::types::commitment::compute_packet_commitment;
    use ibc_core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
    use ibc_core::client::types::Height;
    use ibc_core::host::types::path::{CommitmentPath, SeqSendPath};
    use ibc_core::host::ExecutionContext;
    let (mut a, mut b, mut r) = chains().await;
    let data = vec![0xff, 0xfe, 0x01];
    // A counterparty that can send it (Aegis cannot: its send event fails
    // the same way): the commitment and sequence written directly.
    let (port, channel) = ("transfer".parse().unwrap(), "channel-0".parse().unwrap());
    let timeout = (TimeoutHeight::At(Height::new(0, 10_000).unwrap()), TimeoutTimestamp::Never);
    let mut delta = cnidarium::StateDelta::new(a.storage().latest_snapshot());
    {
        let block = aegis_app::store::BlockContext { chain_id: a.chain_id.clone(), height: a.height + 1, time_seconds: a.time, time_nanos: 0 };
        let mut ctx = IbcContext::new(&mut delta, Default::default(), block, UNBONDING).unwrap();
        let commitment = compute_packet_commitment(&data, &timeout.0, &timeout.1);
        ctx.store_packet_commitment(&CommitmentPath::new(&port, &channel, 2u64.into()), commitment).unwrap();
        ctx.store_next_sequence_send(&SeqSendPath::new(&port, &channel), 3u64.into()).unwrap();
    }
    a.storage().commit(delta).await.unwrap();
    a.height += 1;
    let packet = ibc_proto::ibc::core::channel::v1::Packet {
        sequence: 2,
        source_port: "transfer".into(),
        source_channel: "channel-0".into(),
        destination_port: "transfer".into(),
        destination_channel: "channel-0".into(),
        data,
        timeout_height: Some(RawHeight { revision_number: 0, revision_height: 10_000 }),
        timeout_timestamp: 0,
    };
    let msgs = r.recv_batch(&mut a, &mut b, Side::A, &[packet]).await;
    let out = b.exec(&relayer_b(), msgs).await;
    ok(&out, "receive (an ICS-20 error acknowledgement: the data is not JSON)");
    let recv = out.events.iter().find(|e| e.kind == "recv_packet").expect("a recv_packet event");
    let hex_attr = recv.attributes.iter().find(|a| a.key_str().ok() == Some("packet_data_hex")).unwrap();
    assert_eq!(hex_attr.value_str().unwrap(), "fffe01", "the exact bytes, in hex");
    let acks = written_acks(&out.events);
    assert_eq!(acks.len(), 1);
    assert!(String::from_utf8(acks[0].1.clone()).unwrap().starts_with(r#"{"error":"#), "an error acknowledgement");
}

/// Expired consensus states are pruned oldest first, at most
/// `PRUNE_BATCH` (16) per update, so an update's cost does not grow with
/// the states a client keeps; a backlog goes over the next updates.
#[tokio::test]
async fn expired_consensus_states_are_pruned_sixteen_per_update() {
    use aegis_app::ibc::context::PRUNE_BATCH;
    use aegis_app::testkit::ibc::update_client_msg;
    let (mut a, mut b, mut r) = chains().await;
    let trusting = UNBONDING.as_secs() as i64 * 2 / 3;
    let stored = |a: &TestChain, client: String| {
        let snap = a.storage().latest_snapshot();
        async move {
            aegis_app::ibc::state::scan_raw(&snap, &format!("ibc/clients/{client}/consensusHeights/")).await.unwrap().len()
        }
    };
    let update = |b: &mut TestChain, r: &mut aegis_app::testkit::ibc::Relayer| {
        let msg = update_client_msg(b, &r.ids.client_on_a, r.trusted_on_a, b.height, &relayer_a());
        r.trusted_on_a = b.height;
        msg
    };
    // The states from client creation and the handshakes, then 20, then
    // half a trusting period later 20 more.
    let initial = stored(&a, r.ids.client_on_a.clone()).await;
    for round in 0..2 {
        for _ in 0..20 {
            b.block(vec![]).await;
            a.time = a.time.max(b.time);
            let msg = update(&mut b, &mut r);
            ok(&a.exec(&relayer_a(), vec![msg]).await, "update");
        }
        if round == 0 {
            b.skip_time(trusting / 2);
        }
    }
    let before = stored(&a, r.ids.client_on_a.clone()).await;
    // Past the first 20's expiry, before the second 20's.
    b.skip_time(trusting / 2 + 600);
    b.block(vec![]).await;
    a.time = a.time.max(b.time);
    let msg = update(&mut b, &mut r);
    ok(&a.exec(&relayer_a(), vec![msg]).await, "update after the first states expired");
    let after_one = stored(&a, r.ids.client_on_a.clone()).await;
    assert_eq!(after_one, before + 1 - PRUNE_BATCH, "16 pruned, 1 added");
    b.block(vec![]).await;
    a.time = a.time.max(b.time);
    let msg = update(&mut b, &mut r);
    ok(&a.exec(&relayer_a(), vec![msg]).await, "next update");
    let after_two = stored(&a, r.ids.client_on_a.clone()).await;
    // Every state from before the first skip is gone now.
    assert!(initial + 20 > PRUNE_BATCH, "a backlog larger than one batch");
    assert_eq!(after_two, before + 2 - (initial + 20), "the rest of the backlog pruned");
}

/// Each commit signature in a client update is charged like a transaction
/// signature (1,000 gas): one more signer costs exactly that plus its bytes.
#[tokio::test]
async fn client_update_gas_charges_each_header_signature() {
    use aegis_app::testkit::ibc::header_msg;
    use aegis_app::testkit::light::make_signed_header;
    let mut gas_and_size = Vec::new();
    // The same update on two identical pairs of chains, signed by 3 and by
    // 4 of the 4 validators (both above 2/3).
    for signers in [3, 4] {
        let (mut a, mut b, r) = chains().await;
        b.block(vec![]).await;
        a.time = a.time.max(b.time);
        let honest = b.light.headers[&b.height].clone();
        let vals = b.light.validators.clone();
        let time = (honest.header.time.unix_timestamp(), 0);
        let sh = make_signed_header("aegis-b", b.height, time, honest.header.app_hash.as_bytes(), &vals, &vals, &b.light.keys[..signers], honest.header.last_block_id);
        let msg = header_msg(&b, &r.ids.client_on_a, r.trusted_on_a, sh, &relayer_a());
        let tx = a.sign(&relayer_a(), vec![msg]).await;
        let size = tx.len() as u64;
        let out = a.block(vec![tx]).await.tx_results.remove(0);
        ok(&out, "update");
        gas_and_size.push((out.gas_used, size));
    }
    let (g3, s3) = gas_and_size[0];
    let (g4, s4) = gas_and_size[1];
    assert_eq!(g4 - g3, 1_000 + (s4 - s3) * 10, "one signature: 1,000 gas, and its bytes at 10 gas each");
}
