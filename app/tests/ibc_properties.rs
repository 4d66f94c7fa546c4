//! Properties of IBC input, honest or hostile:
//!
//! - decoding: any bytes, and any mutation of a valid encoding, as the value
//!   of an `Any` under each IBC message type URL, decode (alone, and inside
//!   a signed transaction) to a message or an error, never a panic, and the
//!   two answers agree; executed in a block, such a message is accepted or
//!   refused, and a refused one changes no IBC state and no balance;
//! - handling: on two connected chains, a relayer's valid MsgRecvPacket,
//!   MsgUpdateClient, MsgAcknowledgement and MsgTimeout, mutated (bytes
//!   flipped in proofs, packet data, signatures and hashes; heights,
//!   sequences, ports, channels, validator sets changed), executed in a
//!   block, either do exactly what the valid message does (or are a
//!   redundant relay, answered NOOP with nothing changed) or are refused
//!   with the IBC state and every balance unchanged; blocks keep coming;
//! - ICS-20 receipt: whatever a validly proven transfer packet carries (a
//!   MsgTransfer with any receiver, memo and amount; or raw bytes, any JSON,
//!   any token packet shape, committed by the sending chain), the receive
//!   succeeds and writes an acknowledgement; an error acknowledgement
//!   changes no balance and writes nothing but the receipt and the ack, and
//!   relayed back it refunds the sender.
//!
//! The test kit checks supply and the other invariants after every block.
//! Each chain-executing property sets its two chains up once and keeps a
//! valid message ready, making a fresh one when a case consumed it.
//! Default cases: 64 for pure decoding, 24 for the others (a few seconds
//! in a debug build); `PROPTEST_CASES=N` overrides all of them. Each test
//! prints how its cases ended (`--nocapture`), so that a run shows what it
//! reached (refused, delivered, redundant, error ack, ...).

#![allow(deprecated)] // ibc-go's deprecated `previous_*_id` fields must still be sent
// The chains live in a RefCell because proptest's runner takes an `Fn`; one
// `block_on` at a time drives them, so no borrow is ever contended.
#![allow(clippy::await_holding_refcell_ref)]

use std::cell::RefCell;
use std::time::Duration;

use aegis_app::app::TxOutcome;
use aegis_app::ibc::transfer::{denom_hash, escrow_address};
use aegis_app::signer::{pack, SignOptions, Signer};
use aegis_app::testkit::ibc::{create_client_msg, ok, prove, raw_height, send_raw_packet, sent_packets, update_client_msg, written_acks, Relayer, Side};
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use ibc_proto::cosmos::base::v1beta1::Coin as IbcCoin;
use ibc_proto::ibc::applications::transfer::v1::MsgTransfer;
use ibc_proto::ibc::core::channel::v1 as ch;
use ibc_proto::ibc::core::client::v1 as cl;
use ibc_proto::ibc::core::commitment::v1::MerklePrefix;
use ibc_proto::ibc::core::connection::v1 as co;
use ibc_proto::ibc::lightclients::tendermint::v1 as tm;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use prost::Message;

const FUNDS: u128 = 1_000_000_000_000;
/// Default restaking withdrawal delay: the unbonding period clients use.
const UNBONDING: Duration = Duration::from_secs(7 * 24 * 3600);
/// A timeout height on B no test reaches.
const FAR: u64 = 1_000_000;

const RECV_URL: &str = "/ibc.core.channel.v1.MsgRecvPacket";
const ACK_URL: &str = "/ibc.core.channel.v1.MsgAcknowledgement";
const TIMEOUT_URL: &str = "/ibc.core.channel.v1.MsgTimeout";
const UPDATE_URL: &str = "/ibc.core.client.v1.MsgUpdateClient";
const NOOP: i32 = 1;
const SUCCESS: i32 = 2;

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

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// Run `test` on `cases` values of `strategy` with one runner, so that the
/// test's world (two chains) is set up once, outside the cases. `test`
/// names each case's outcome; the tally is printed (`--nocapture`), to
/// show what the cases reached.
fn check<S: Strategy>(name: &str, cases: u32, strategy: S, test: impl Fn(S::Value) -> &'static str) {
    let config = Config { cases, source_file: Some(file!()), max_shrink_iters: 64, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let tally = RefCell::new(std::collections::BTreeMap::<&str, u32>::new());
    let result = runner.run(&strategy, |v| {
        *tally.borrow_mut().entry(test(v)).or_default() += 1;
        Ok(())
    });
    eprintln!("{name}: {:?}", tally.borrow());
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

// ---------------------------------------------------------------------------
// The world: two chains connected by an ICS-20 channel.

struct Net {
    a: TestChain,
    b: TestChain,
    r: Relayer,
}

impl Net {
    async fn new() -> Self {
        let funded = |signers: &[Signer]| genesis_with(&signers.iter().map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, FUNDS)])).collect::<Vec<_>>());
        let mut a = TestChain::with_chain_id(&funded(&[alice(), relayer_a()]), "aegis-a").await;
        let mut b = TestChain::with_chain_id(&funded(&[bob(), relayer_b()]), "aegis-b").await;
        a.block(vec![]).await;
        b.block(vec![]).await;
        let mut r = Relayer::new(relayer_a(), relayer_b(), UNBONDING);
        r.setup_transfer(&mut a, &mut b).await;
        Net { a, b, r }
    }

    /// Alice sends `amount` uaegis from A to bob on B; the packet.
    async fn send(&mut self, amount: u128, timeout_height: u64) -> ch::Packet {
        let out = self.a.exec(&alice(), vec![transfer_msg(&alice().address.to_string(), &bob().address.to_string(), NATIVE_DENOM, amount, "", timeout_height)]).await;
        ok(&out, "transfer");
        sent_packets(&out.events).remove(0)
    }
}

fn transfer_msg(sender: &str, receiver: &str, denom: &str, amount: u128, memo: &str, timeout_height: u64) -> cosmrs::Any {
    pack(
        "/ibc.applications.transfer.v1.MsgTransfer",
        &MsgTransfer {
            source_port: "transfer".into(),
            source_channel: "channel-0".into(),
            token: Some(IbcCoin { denom: denom.into(), amount: amount.to_string() }),
            sender: sender.into(),
            receiver: receiver.into(),
            timeout_height: Some(cl::Height { revision_number: 0, revision_height: timeout_height }),
            timeout_timestamp: 0,
            memo: memo.into(),
        },
    )
}

/// Every IBC key and value except this chain's own consensus states (which
/// change every block by design).
async fn ibc_state(c: &TestChain) -> Vec<(String, Vec<u8>)> {
    let snap = c.storage().latest_snapshot();
    aegis_app::ibc::state::scan_raw(&snap, "ibc/").await.unwrap().into_iter().filter(|(k, _)| !k.starts_with("hostConsensusStates/")).collect()
}

/// Every balance and supply.
async fn bank_state(c: &TestChain) -> Vec<(String, Vec<u8>)> {
    aegis_app::ibc::state::scan_raw(&c.storage().latest_snapshot(), "bank/").await.unwrap()
}

fn ibc_value<'a>(state: &'a [(String, Vec<u8>)], key: &str) -> Option<&'a [u8]> {
    state.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_slice())
}

fn raw_any(type_url: &str, value: Vec<u8>) -> cosmrs::Any {
    cosmrs::Any { type_url: type_url.into(), value }
}

/// One block holding one tx of `msg` from `from`, with the IBC state and
/// balances before and after.
struct Run {
    out: TxOutcome,
    ibc_before: Vec<(String, Vec<u8>)>,
    bank_before: Vec<(String, Vec<u8>)>,
    ibc_after: Vec<(String, Vec<u8>)>,
    bank_after: Vec<(String, Vec<u8>)>,
}

async fn run(chain: &mut TestChain, from: &Signer, msg: cosmrs::Any) -> Run {
    let (ibc_before, bank_before) = (ibc_state(chain).await, bank_state(chain).await);
    let out = chain.exec(from, vec![msg]).await;
    let (ibc_after, bank_after) = (ibc_state(chain).await, bank_state(chain).await);
    Run { out, ibc_before, bank_before, ibc_after, bank_after }
}

impl Run {
    /// A refused message (or a redundant relay) changes no IBC state and no
    /// balance, and is refused by a check, not by a handler that panicked
    /// (which the module contains as an internal error).
    fn assert_unchanged(&self, what: &str) {
        if let Err(e) = &self.out.result {
            assert_ne!(e.codespace, "undefined", "{what}: an internal error: {}", e.message);
        }
        assert!(self.ibc_before == self.ibc_after, "{what}: IBC state changed: {:?}", diff(&self.ibc_before, &self.ibc_after));
        assert!(self.bank_before == self.bank_after, "{what}: balances changed: {:?}", diff(&self.bank_before, &self.bank_after));
    }

    fn changed_keys(&self) -> Vec<String> {
        diff(&self.ibc_before, &self.ibc_after)
    }
}

/// Keys added, removed or changed between two states.
fn diff(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)]) -> Vec<String> {
    let b: std::collections::BTreeMap<_, _> = before.iter().cloned().collect();
    let a: std::collections::BTreeMap<_, _> = after.iter().cloned().collect();
    b.keys().chain(a.keys()).filter(|k| b.get(*k) != a.get(*k)).cloned().collect::<std::collections::BTreeSet<_>>().into_iter().collect()
}

/// The `result` of the last message response (MsgRecvPacket, MsgAcknowledgement, MsgTimeout).
fn packet_result(o: &TxOutcome) -> i32 {
    use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
    let data = TxMsgData::decode(o.data.as_slice()).unwrap();
    let any = data.msg_responses.last().unwrap();
    // Every packet response is `{ result: ResponseResultType = 1 }`.
    ch::MsgRecvPacketResponse::decode(any.value.as_slice()).unwrap().result
}

// ---------------------------------------------------------------------------
// Byte-level mutations.

#[derive(Clone, Debug)]
enum Edit {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, u8),
    Remove(Index),
    Truncate(Index),
    Splice(Index, Vec<u8>),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<Index>(), 1u8..).prop_map(|(i, m)| Edit::Flip(i, m)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Edit::Set(i, v)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Edit::Insert(i, v)),
        1 => any::<Index>().prop_map(Edit::Remove),
        1 => any::<Index>().prop_map(Edit::Truncate),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..24)).prop_map(|(i, v)| Edit::Splice(i, v)),
    ]
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..4)
}

fn apply(bytes: &mut Vec<u8>, e: &Edit) {
    let n = bytes.len();
    match e {
        Edit::Insert(i, v) => bytes.insert(if n == 0 { 0 } else { i.index(n + 1) }, *v),
        Edit::Splice(i, v) => {
            let at = if n == 0 { 0 } else { i.index(n + 1) };
            bytes.splice(at..at, v.iter().copied());
        }
        _ if n == 0 => {}
        Edit::Flip(i, m) => bytes[i.index(n)] ^= m,
        Edit::Set(i, v) => bytes[i.index(n)] = *v,
        Edit::Remove(i) => {
            bytes.remove(i.index(n));
        }
        Edit::Truncate(i) => bytes.truncate(i.index(n)),
    }
}

fn apply_all(mut bytes: Vec<u8>, es: &[Edit]) -> Vec<u8> {
    for e in es {
        apply(&mut bytes, e);
    }
    bytes
}

/// Port and channel identifiers, valid and not.
fn ident() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("transfer".to_string()),
        Just("channel-0".to_string()),
        Just("channel-1".to_string()),
        Just("channel-18446744073709551615".to_string()),
        Just(String::new()),
        "[a-zA-Z0-9._+#<>/\\[\\]-]{1,70}",
        "\\PC{0,20}",
    ]
}

fn height() -> impl Strategy<Value = Option<(u64, u64)>> {
    prop::option::weighted(0.9, (prop_oneof![Just(0u64), Just(1), any::<u64>()], prop_oneof![Just(0u64), 1u64..200, Just(FAR), any::<u64>()]))
}

// ---------------------------------------------------------------------------
// (a) Decoding: arbitrary and mutated values under every IBC type URL.

/// A valid encoding of each IBC message, signed by relayer B (so that, in
/// a block on B, its signer is the tx's).
async fn samples(net: &Net) -> Vec<(&'static str, Vec<u8>)> {
    let (a, b, r) = (&net.a, &net.b, &net.r);
    let signer = relayer_b().address.to_string();
    let h = a.height;
    let proof = prove(b, "nextClientSequence", b.height).await.1;
    let ph = Some(raw_height(&a.chain_id, h));
    let prefix = Some(MerklePrefix { key_prefix: b"ibc".to_vec() });
    let version = co::Version { identifier: "1".into(), features: vec!["ORDER_ORDERED".into(), "ORDER_UNORDERED".into()] };
    let create = create_client_msg(a, UNBONDING, &relayer_b()).value;
    let create_msg = cl::MsgCreateClient::decode(create.as_slice()).unwrap();
    let update = update_client_msg(a, &r.ids.client_on_b, r.trusted_on_b, h, &relayer_b()).value;
    let header = cl::MsgUpdateClient::decode(update.as_slice()).unwrap().client_message.unwrap();
    let header = tm::Header::decode(header.value.as_slice()).unwrap();
    let mut twin = header.clone();
    twin.signed_header.as_mut().unwrap().header.as_mut().unwrap().app_hash = vec![7; 32];
    let misbehaviour = tm::Misbehaviour { client_id: r.ids.client_on_b.clone(), header_1: Some(header), header_2: Some(twin) };
    let packet = ch::Packet {
        sequence: 1,
        source_port: "transfer".into(),
        source_channel: "channel-0".into(),
        destination_port: "transfer".into(),
        destination_channel: "channel-0".into(),
        data: br#"{"amount":"500","denom":"uaegis","receiver":"x","sender":"y"}"#.to_vec(),
        timeout_height: Some(cl::Height { revision_number: 0, revision_height: FAR }),
        timeout_timestamp: 0,
    };
    let channel = |state: ch::State, counterparty_channel: &str| ch::Channel {
        state: state as i32,
        ordering: ch::Order::Unordered as i32,
        counterparty: Some(ch::Counterparty { port_id: "transfer".into(), channel_id: counterparty_channel.into() }),
        connection_hops: vec![r.ids.conn_on_b.clone()],
        version: "ics20-1".into(),
        upgrade_sequence: 0,
    };
    let client_state = create_msg.client_state.clone();
    vec![
        ("/ibc.core.client.v1.MsgCreateClient", create),
        (UPDATE_URL, update),
        (
            "/ibc.core.client.v1.MsgSubmitMisbehaviour",
            cl::MsgSubmitMisbehaviour {
                client_id: r.ids.client_on_b.clone(),
                misbehaviour: Some(ibc_proto::google::protobuf::Any {
                    type_url: "/ibc.lightclients.tendermint.v1.Misbehaviour".into(),
                    value: misbehaviour.encode_to_vec(),
                }),
                signer: signer.clone(),
            }
            .encode_to_vec(),
        ),
        (
            "/ibc.core.connection.v1.MsgConnectionOpenInit",
            co::MsgConnectionOpenInit {
                client_id: r.ids.client_on_b.clone(),
                counterparty: Some(co::Counterparty { client_id: r.ids.client_on_a.clone(), connection_id: String::new(), prefix: prefix.clone() }),
                version: Some(version.clone()),
                delay_period: 0,
                signer: signer.clone(),
            }
            .encode_to_vec(),
        ),
        (
            "/ibc.core.connection.v1.MsgConnectionOpenTry",
            co::MsgConnectionOpenTry {
                client_id: r.ids.client_on_b.clone(),
                previous_connection_id: String::new(),
                client_state: client_state.clone(),
                counterparty: Some(co::Counterparty { client_id: r.ids.client_on_a.clone(), connection_id: "connection-1".into(), prefix: prefix.clone() }),
                delay_period: 0,
                counterparty_versions: vec![version.clone()],
                proof_height: ph,
                proof_init: proof.clone(),
                proof_client: proof.clone(),
                proof_consensus: proof.clone(),
                consensus_height: Some(raw_height(&b.chain_id, b.height - 1)),
                signer: signer.clone(),
                host_consensus_state_proof: vec![],
            }
            .encode_to_vec(),
        ),
        (
            "/ibc.core.connection.v1.MsgConnectionOpenAck",
            co::MsgConnectionOpenAck {
                connection_id: r.ids.conn_on_b.clone(),
                counterparty_connection_id: r.ids.conn_on_a.clone(),
                version: Some(version),
                client_state,
                proof_height: ph,
                proof_try: proof.clone(),
                proof_client: proof.clone(),
                proof_consensus: proof.clone(),
                consensus_height: Some(raw_height(&b.chain_id, b.height - 1)),
                signer: signer.clone(),
                host_consensus_state_proof: vec![],
            }
            .encode_to_vec(),
        ),
        (
            "/ibc.core.connection.v1.MsgConnectionOpenConfirm",
            co::MsgConnectionOpenConfirm { connection_id: r.ids.conn_on_b.clone(), proof_ack: proof.clone(), proof_height: ph, signer: signer.clone() }
                .encode_to_vec(),
        ),
        (
            "/ibc.core.channel.v1.MsgChannelOpenInit",
            ch::MsgChannelOpenInit { port_id: "transfer".into(), channel: Some(channel(ch::State::Init, "")), signer: signer.clone() }.encode_to_vec(),
        ),
        (
            "/ibc.core.channel.v1.MsgChannelOpenTry",
            ch::MsgChannelOpenTry {
                port_id: "transfer".into(),
                previous_channel_id: String::new(),
                channel: Some(channel(ch::State::Tryopen, "channel-1")),
                counterparty_version: "ics20-1".into(),
                proof_init: proof.clone(),
                proof_height: ph,
                signer: signer.clone(),
            }
            .encode_to_vec(),
        ),
        (
            "/ibc.core.channel.v1.MsgChannelOpenAck",
            ch::MsgChannelOpenAck {
                port_id: "transfer".into(),
                channel_id: "channel-0".into(),
                counterparty_channel_id: "channel-1".into(),
                counterparty_version: "ics20-1".into(),
                proof_try: proof.clone(),
                proof_height: ph,
                signer: signer.clone(),
            }
            .encode_to_vec(),
        ),
        (
            "/ibc.core.channel.v1.MsgChannelOpenConfirm",
            ch::MsgChannelOpenConfirm { port_id: "transfer".into(), channel_id: "channel-0".into(), proof_ack: proof.clone(), proof_height: ph, signer: signer.clone() }
                .encode_to_vec(),
        ),
        (
            RECV_URL,
            ch::MsgRecvPacket { packet: Some(packet.clone()), proof_commitment: proof.clone(), proof_height: ph, signer: signer.clone() }.encode_to_vec(),
        ),
        (
            ACK_URL,
            ch::MsgAcknowledgement {
                packet: Some(packet.clone()),
                acknowledgement: br#"{"result":"AQ=="}"#.to_vec(),
                proof_acked: proof.clone(),
                proof_height: ph,
                signer: signer.clone(),
            }
            .encode_to_vec(),
        ),
        (
            TIMEOUT_URL,
            ch::MsgTimeout { packet: Some(packet), proof_unreceived: proof.clone(), proof_height: ph, next_sequence_recv: 1, signer: signer.clone() }
                .encode_to_vec(),
        ),
        (
            "/ibc.applications.transfer.v1.MsgTransfer",
            transfer_msg(&signer, &alice().address.to_string(), NATIVE_DENOM, 10, "memo", FAR).value,
        ),
    ]
}

#[derive(Clone, Debug)]
enum Value {
    Arbitrary(Vec<u8>),
    Mutated(Vec<Edit>),
}

fn value() -> impl Strategy<Value = (Index, Value)> {
    (any::<Index>(), prop_oneof![1 => prop::collection::vec(any::<u8>(), 0..400).prop_map(Value::Arbitrary), 3 => edits().prop_map(Value::Mutated)])
}

fn make_value(samples: &[(&'static str, Vec<u8>)], (i, v): &(Index, Value)) -> (&'static str, Vec<u8>) {
    let (url, valid) = &samples[i.index(samples.len())];
    (url, match v {
        Value::Arbitrary(bytes) => bytes.clone(),
        Value::Mutated(es) => apply_all(valid.clone(), es),
    })
}

#[test]
fn any_value_under_an_ibc_type_url_decodes_or_errs_alike_alone_and_in_a_signed_tx() {
    let rt = runtime();
    let net = rt.block_on(Net::new());
    let samples = rt.block_on(samples(&net));
    assert_eq!(samples.len(), 15);
    // The unmutated samples decode.
    for (url, bytes) in &samples {
        let any = tendermint_proto::google::protobuf::Any { type_url: url.to_string(), value: bytes.clone() };
        aegis_app::ibc::msgs::decode(&any).expect("an IBC type URL").unwrap_or_else(|e| panic!("sample {url}: {}", e.message));
    }
    let signer = relayer_b();
    check("decoding", cases(64), value(), |v| {
        let (url, bytes) = make_value(&samples, &v);
        let any = tendermint_proto::google::protobuf::Any { type_url: url.to_string(), value: bytes.clone() };
        let alone = aegis_app::ibc::msgs::decode(&any).expect("an IBC type URL");
        let tx = signer.sign(vec![raw_any(url, bytes)], &SignOptions::new("aegis-b", 1, 0)).unwrap();
        let in_tx = aegis_app::tx::decode_tx(&tx, false);
        assert_eq!(
            alone.is_ok(),
            in_tx.is_ok(),
            "{url}: alone {:?}, in a tx {:?}",
            alone.as_ref().map(|_| ()).map_err(|e| &e.message),
            in_tx.as_ref().map(|_| ()).map_err(|e| &e.message)
        );
        if alone.is_ok() {
            "decoded"
        } else {
            "refused"
        }
    });
}

#[test]
fn any_value_under_an_ibc_type_url_executed_in_a_block_is_accepted_or_changes_nothing() {
    let rt = runtime();
    let net = RefCell::new(rt.block_on(Net::new()));
    let samples = rt.block_on(samples(&net.borrow()));
    check("execution", cases(24), value(), |v| {
        let (url, bytes) = make_value(&samples, &v);
        rt.block_on(async {
            let net = &mut *net.borrow_mut();
            let run = run(&mut net.b, &relayer_b(), raw_any(url, bytes)).await;
            if run.out.result.is_err() {
                run.assert_unchanged(url);
                "refused"
            } else {
                "accepted"
            }
        })
    });
}

// ---------------------------------------------------------------------------
// (b) Mutated relayer messages on a connected pair.

#[derive(Clone, Debug)]
enum PacketEdit {
    Sequence(u64),
    SequenceStep(bool),
    SourcePort(String),
    SourceChannel(String),
    DestinationPort(String),
    DestinationChannel(String),
    Data(Vec<Edit>),
    DataReplaced(Vec<u8>),
    TimeoutHeight(Option<(u64, u64)>),
    TimeoutTimestamp(u64),
}

#[derive(Clone, Debug)]
enum MsgEdit {
    Packet(PacketEdit),
    Proof(Vec<Edit>),
    ProofReplaced(Vec<u8>),
    ProofHeight(Option<(u64, u64)>),
    ProofHeightStep(i8),
    /// MsgAcknowledgement only.
    Ack(Vec<Edit>),
    /// MsgTimeout only.
    NextSequenceRecv(u64),
    Signer(String),
    /// Bytes of the whole encoded message (applied last).
    Encoded(Vec<Edit>),
}

fn packet_edit() -> impl Strategy<Value = PacketEdit> {
    prop_oneof![
        1 => prop_oneof![Just(0u64), 1u64..4, any::<u64>()].prop_map(PacketEdit::Sequence),
        1 => any::<bool>().prop_map(PacketEdit::SequenceStep),
        1 => ident().prop_map(PacketEdit::SourcePort),
        1 => ident().prop_map(PacketEdit::SourceChannel),
        1 => ident().prop_map(PacketEdit::DestinationPort),
        1 => ident().prop_map(PacketEdit::DestinationChannel),
        3 => edits().prop_map(PacketEdit::Data),
        1 => prop::collection::vec(any::<u8>(), 0..100).prop_map(PacketEdit::DataReplaced),
        1 => height().prop_map(PacketEdit::TimeoutHeight),
        1 => prop_oneof![Just(0u64), Just(1), any::<u64>(), Just(u64::MAX)].prop_map(PacketEdit::TimeoutTimestamp),
    ]
}

fn msg_edit() -> impl Strategy<Value = MsgEdit> {
    prop_oneof![
        4 => packet_edit().prop_map(MsgEdit::Packet),
        4 => edits().prop_map(MsgEdit::Proof),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(MsgEdit::ProofReplaced),
        1 => height().prop_map(MsgEdit::ProofHeight),
        1 => any::<i8>().prop_map(MsgEdit::ProofHeightStep),
        2 => edits().prop_map(MsgEdit::Ack),
        1 => prop_oneof![Just(0u64), 1u64..4, any::<u64>()].prop_map(MsgEdit::NextSequenceRecv),
        1 => prop_oneof![Just(relayer_a().address.to_string()), Just(relayer_b().address.to_string()), "\\PC{0,50}"].prop_map(MsgEdit::Signer),
        2 => edits().prop_map(MsgEdit::Encoded),
    ]
}

fn msg_edits() -> impl Strategy<Value = Vec<MsgEdit>> {
    prop::collection::vec(msg_edit(), 1..4)
}

fn set_height(h: &mut Option<cl::Height>, v: Option<(u64, u64)>) {
    *h = v.map(|(revision_number, revision_height)| cl::Height { revision_number, revision_height });
}

fn edit_packet(p: &mut ch::Packet, e: &PacketEdit) {
    match e {
        PacketEdit::Sequence(s) => p.sequence = *s,
        PacketEdit::SequenceStep(up) => p.sequence = if *up { p.sequence.wrapping_add(1) } else { p.sequence.wrapping_sub(1) },
        PacketEdit::SourcePort(s) => p.source_port = s.clone(),
        PacketEdit::SourceChannel(s) => p.source_channel = s.clone(),
        PacketEdit::DestinationPort(s) => p.destination_port = s.clone(),
        PacketEdit::DestinationChannel(s) => p.destination_channel = s.clone(),
        PacketEdit::Data(es) => p.data = apply_all(std::mem::take(&mut p.data), es),
        PacketEdit::DataReplaced(d) => p.data = d.clone(),
        PacketEdit::TimeoutHeight(h) => set_height(&mut p.timeout_height, *h),
        PacketEdit::TimeoutTimestamp(t) => p.timeout_timestamp = *t,
    }
}

/// The fields the edits reach in the three packet messages.
trait PacketMsg: Message + Clone + Default {
    const URL: &'static str;
    fn packet(&mut self) -> &mut ch::Packet;
    fn proof(&mut self) -> &mut Vec<u8>;
    fn proof_height(&mut self) -> &mut Option<cl::Height>;
    fn signer(&mut self) -> &mut String;
    fn ack(&mut self) -> Option<&mut Vec<u8>> {
        None
    }
    fn next_sequence_recv(&mut self) -> Option<&mut u64> {
        None
    }
}

impl PacketMsg for ch::MsgRecvPacket {
    const URL: &'static str = RECV_URL;
    fn packet(&mut self) -> &mut ch::Packet {
        self.packet.get_or_insert_with(Default::default)
    }
    fn proof(&mut self) -> &mut Vec<u8> {
        &mut self.proof_commitment
    }
    fn proof_height(&mut self) -> &mut Option<cl::Height> {
        &mut self.proof_height
    }
    fn signer(&mut self) -> &mut String {
        &mut self.signer
    }
}

impl PacketMsg for ch::MsgAcknowledgement {
    const URL: &'static str = ACK_URL;
    fn packet(&mut self) -> &mut ch::Packet {
        self.packet.get_or_insert_with(Default::default)
    }
    fn proof(&mut self) -> &mut Vec<u8> {
        &mut self.proof_acked
    }
    fn proof_height(&mut self) -> &mut Option<cl::Height> {
        &mut self.proof_height
    }
    fn signer(&mut self) -> &mut String {
        &mut self.signer
    }
    fn ack(&mut self) -> Option<&mut Vec<u8>> {
        Some(&mut self.acknowledgement)
    }
}

impl PacketMsg for ch::MsgTimeout {
    const URL: &'static str = TIMEOUT_URL;
    fn packet(&mut self) -> &mut ch::Packet {
        self.packet.get_or_insert_with(Default::default)
    }
    fn proof(&mut self) -> &mut Vec<u8> {
        &mut self.proof_unreceived
    }
    fn proof_height(&mut self) -> &mut Option<cl::Height> {
        &mut self.proof_height
    }
    fn signer(&mut self) -> &mut String {
        &mut self.signer
    }
    fn next_sequence_recv(&mut self) -> Option<&mut u64> {
        Some(&mut self.next_sequence_recv)
    }
}

/// `good` with the edits applied, encoded (encoded-byte edits last).
fn mutate<M: PacketMsg>(good: &M, edits: &[MsgEdit]) -> cosmrs::Any {
    let mut m = good.clone();
    let mut encoded_edits = vec![];
    for e in edits {
        match e {
            MsgEdit::Packet(pe) => edit_packet(m.packet(), pe),
            MsgEdit::Proof(es) => *m.proof() = apply_all(std::mem::take(m.proof()), es),
            MsgEdit::ProofReplaced(p) => *m.proof() = p.clone(),
            MsgEdit::ProofHeight(h) => set_height(m.proof_height(), *h),
            MsgEdit::ProofHeightStep(d) => {
                if let Some(h) = m.proof_height().as_mut() {
                    h.revision_height = h.revision_height.wrapping_add_signed(*d as i64);
                }
            }
            MsgEdit::Ack(es) => {
                if let Some(ack) = m.ack() {
                    *ack = apply_all(std::mem::take(ack), es);
                }
            }
            MsgEdit::NextSequenceRecv(s) => {
                if let Some(n) = m.next_sequence_recv() {
                    *n = *s;
                }
            }
            MsgEdit::Signer(s) => *m.signer() = s.clone(),
            MsgEdit::Encoded(es) => encoded_edits.extend(es.iter().cloned()),
        }
    }
    raw_any(M::URL, apply_all(m.encode_to_vec(), &encoded_edits))
}

fn decode_any<M: Message + Default>(any: &cosmrs::Any) -> M {
    M::decode(any.value.as_slice()).unwrap()
}

const AMOUNT: u128 = 1_000;

/// MsgRecvPacket on B for a packet A sent, B's client already updated to its proof height.
async fn recv_fixture(net: &mut Net) -> ch::MsgRecvPacket {
    let p = net.send(AMOUNT, FAR).await;
    let msgs = net.r.recv_batch(&mut net.a, &mut net.b, Side::A, &[p]).await;
    ok(&net.b.exec(&relayer_b(), vec![msgs[0].clone()]).await, "update B's client");
    decode_any(&msgs[1])
}

#[test]
fn mutated_receives_deliver_the_sent_packet_or_change_nothing() {
    let rt = runtime();
    let net = RefCell::new(rt.block_on(Net::new()));
    let fixture: RefCell<Option<ch::MsgRecvPacket>> = RefCell::new(None);
    let voucher = format!("ibc/{}", denom_hash("transfer/channel-0/uaegis"));
    check("receive", cases(24), msg_edits(), |edits| {
        rt.block_on(async {
            let net = &mut *net.borrow_mut();
            let mut fixture = fixture.borrow_mut();
            if fixture.is_none() {
                *fixture = Some(recv_fixture(net).await);
            }
            let good = fixture.clone().unwrap();
            let bob_before = net.b.balance(&bob().address, &voucher).await;
            let run = run(&mut net.b, &relayer_b(), mutate(&good, &edits)).await;
            match &run.out.result {
                Err(_) => {
                    run.assert_unchanged("a refused receive");
                    "refused"
                }
                Ok(()) if packet_result(&run.out) == NOOP => {
                    run.assert_unchanged("a redundant receive");
                    "noop"
                }
                Ok(()) => {
                    // Only the packet A committed can be delivered.
                    let acks = written_acks(&run.out.events);
                    assert_eq!(acks.len(), 1);
                    assert_eq!(acks[0].0, good.packet.clone().unwrap(), "the delivered packet is the one A sent");
                    assert_eq!(net.b.balance(&bob().address, &voucher).await, bob_before + AMOUNT);
                    *fixture = None;
                    "delivered"
                }
            }
        })
    });
}

/// MsgAcknowledgement on A for a packet B received, A's client already updated.
async fn ack_fixture(net: &mut Net) -> ch::MsgAcknowledgement {
    let p = net.send(AMOUNT, FAR).await;
    let msgs = net.r.recv_batch(&mut net.a, &mut net.b, Side::A, &[p]).await;
    let out = net.b.exec(&relayer_b(), msgs).await;
    ok(&out, "receive");
    let acks = written_acks(&out.events);
    let msgs = net.r.ack_batch(&mut net.b, &mut net.a, Side::B, &acks).await;
    ok(&net.a.exec(&relayer_a(), vec![msgs[0].clone()]).await, "update A's client");
    decode_any(&msgs[1])
}

fn commitment_key(p: &ch::Packet) -> String {
    format!("commitments/ports/{}/channels/{}/sequences/{}", p.source_port, p.source_channel, p.sequence)
}

#[test]
fn mutated_acknowledgements_settle_the_sent_packet_or_change_nothing() {
    let rt = runtime();
    let net = RefCell::new(rt.block_on(Net::new()));
    let fixture: RefCell<Option<ch::MsgAcknowledgement>> = RefCell::new(None);
    check("acknowledgement", cases(24), msg_edits(), |edits| {
        rt.block_on(async {
            let net = &mut *net.borrow_mut();
            let mut fixture = fixture.borrow_mut();
            if fixture.is_none() {
                *fixture = Some(ack_fixture(net).await);
            }
            let good = fixture.clone().unwrap();
            let run = run(&mut net.a, &relayer_a(), mutate(&good, &edits)).await;
            match &run.out.result {
                Err(_) => {
                    run.assert_unchanged("a refused acknowledgement");
                    "refused"
                }
                Ok(()) if packet_result(&run.out) == NOOP => {
                    run.assert_unchanged("a redundant acknowledgement");
                    "noop"
                }
                Ok(()) => {
                    // A success ack: the commitment goes, no token moves.
                    assert_eq!(run.changed_keys(), vec![commitment_key(good.packet.as_ref().unwrap())]);
                    assert!(run.bank_before == run.bank_after);
                    *fixture = None;
                    "settled"
                }
            }
        })
    });
}

/// MsgTimeout on A for a packet B let time out, A's client already updated.
async fn timeout_fixture(net: &mut Net) -> ch::MsgTimeout {
    let timeout = net.b.height + 2;
    let p = net.send(AMOUNT, timeout).await;
    while net.b.height < timeout {
        net.b.block(vec![]).await;
    }
    let msgs = net.r.timeout_batch(&mut net.b, &mut net.a, Side::B, &[p]).await;
    ok(&net.a.exec(&relayer_a(), vec![msgs[0].clone()]).await, "update A's client");
    decode_any(&msgs[1])
}

#[test]
fn mutated_timeouts_refund_the_sent_packet_or_change_nothing() {
    let rt = runtime();
    let net = RefCell::new(rt.block_on(Net::new()));
    let fixture: RefCell<Option<ch::MsgTimeout>> = RefCell::new(None);
    let escrow = escrow_address("transfer", "channel-0");
    check("timeout", cases(24), msg_edits(), |edits| {
        rt.block_on(async {
            let net = &mut *net.borrow_mut();
            let mut fixture = fixture.borrow_mut();
            if fixture.is_none() {
                *fixture = Some(timeout_fixture(net).await);
            }
            let good = fixture.clone().unwrap();
            let (alice_before, escrow_before) = (net.a.balance(&alice().address, NATIVE_DENOM).await, net.a.balance(&escrow, NATIVE_DENOM).await);
            let run = run(&mut net.a, &relayer_a(), mutate(&good, &edits)).await;
            match &run.out.result {
                Err(_) => {
                    run.assert_unchanged("a refused timeout");
                    "refused"
                }
                Ok(()) if packet_result(&run.out) == NOOP => {
                    run.assert_unchanged("a redundant timeout");
                    "noop"
                }
                Ok(()) => {
                    assert_eq!(run.changed_keys(), vec![commitment_key(good.packet.as_ref().unwrap())]);
                    assert_eq!(net.a.balance(&alice().address, NATIVE_DENOM).await, alice_before + AMOUNT, "refunded");
                    assert_eq!(net.a.balance(&escrow, NATIVE_DENOM).await, escrow_before - AMOUNT);
                    *fixture = None;
                    "refunded"
                }
            }
        })
    });
}

// Client updates.

#[derive(Clone, Debug)]
enum HeaderEdit {
    SignatureFlip(Index, Index, u8),
    SignatureAbsent(Index),
    SignatureTimestamp(Index, i64),
    SignatureAddress(Index, Vec<Edit>),
    HeaderHeight(i64),
    CommitHeight(i64),
    CommitRound(i32),
    HeaderTime(i64),
    AppHash(Vec<Edit>),
    ChainId(String),
    ValidatorsHash(Vec<Edit>),
    NextValidatorsHash(Vec<Edit>),
    CommitBlockHash(Vec<Edit>),
    ValidatorPower(Index, i64),
    ValidatorKey(Index, Vec<Edit>),
    DropValidator(Index),
    NoValidatorSet,
    TotalVotingPower(i64),
    TrustedHeight(i64),
    TrustedRevision(u64),
    TrustedValidatorPower(Index, i64),
    DropTrustedValidator(Index),
    NoTrustedValidators,
    ClientId(String),
    ClientMessageUrl(String),
    /// Bytes of the encoded header.
    HeaderEncoded(Vec<Edit>),
    /// Bytes of the whole encoded MsgUpdateClient (applied last).
    Encoded(Vec<Edit>),
}

fn header_edit() -> impl Strategy<Value = HeaderEdit> {
    use HeaderEdit as H;
    let delta = || prop_oneof![-3i64..=3, any::<i64>()];
    prop_oneof![
        3 => (any::<Index>(), any::<Index>(), 1u8..).prop_map(|(v, b, m)| H::SignatureFlip(v, b, m)),
        1 => any::<Index>().prop_map(H::SignatureAbsent),
        1 => (any::<Index>(), delta()).prop_map(|(i, d)| H::SignatureTimestamp(i, d)),
        1 => (any::<Index>(), edits()).prop_map(|(i, e)| H::SignatureAddress(i, e)),
        1 => delta().prop_map(H::HeaderHeight),
        1 => delta().prop_map(H::CommitHeight),
        1 => prop_oneof![Just(1i32), Just(-1), any::<i32>()].prop_map(H::CommitRound),
        1 => prop_oneof![-20i64..=20, any::<i64>()].prop_map(H::HeaderTime),
        1 => edits().prop_map(H::AppHash),
        1 => prop_oneof![Just("aegis-a".to_string()), Just("aegis-b".to_string()), Just("aegis-a-1".to_string()), "\\PC{0,60}"].prop_map(H::ChainId),
        1 => edits().prop_map(H::ValidatorsHash),
        1 => edits().prop_map(H::NextValidatorsHash),
        1 => edits().prop_map(H::CommitBlockHash),
        1 => (any::<Index>(), prop_oneof![Just(0i64), Just(-1), Just(1), Just(11), Just(i64::MAX), any::<i64>()]).prop_map(|(i, p)| H::ValidatorPower(i, p)),
        1 => (any::<Index>(), edits()).prop_map(|(i, e)| H::ValidatorKey(i, e)),
        1 => any::<Index>().prop_map(H::DropValidator),
        1 => Just(H::NoValidatorSet),
        1 => prop_oneof![Just(0i64), Just(-1), any::<i64>()].prop_map(H::TotalVotingPower),
        1 => delta().prop_map(H::TrustedHeight),
        1 => prop_oneof![Just(1u64), any::<u64>()].prop_map(H::TrustedRevision),
        1 => (any::<Index>(), prop_oneof![Just(0i64), Just(1), Just(i64::MAX), any::<i64>()]).prop_map(|(i, p)| H::TrustedValidatorPower(i, p)),
        1 => any::<Index>().prop_map(H::DropTrustedValidator),
        1 => Just(H::NoTrustedValidators),
        1 => prop_oneof![Just("07-tendermint-1".to_string()), Just("07-tendermint-18446744073709551615".to_string()), "\\PC{0,40}"].prop_map(H::ClientId),
        1 => prop_oneof![Just("/ibc.lightclients.tendermint.v1.Misbehaviour".to_string()), Just("/ibc.lightclients.wasm.v1.ClientMessage".to_string()), "\\PC{0,40}"]
            .prop_map(H::ClientMessageUrl),
        2 => edits().prop_map(H::HeaderEncoded),
        2 => edits().prop_map(H::Encoded),
    ]
}

fn pick<'a, T>(v: &'a mut [T], i: &Index) -> Option<&'a mut T> {
    if v.is_empty() {
        None
    } else {
        let n = v.len();
        v.get_mut(i.index(n))
    }
}

fn mutate_update(good: &cl::MsgUpdateClient, edits: &[HeaderEdit]) -> cosmrs::Any {
    use HeaderEdit as H;
    let mut msg = good.clone();
    let any = msg.client_message.as_mut().unwrap();
    let mut header = tm::Header::decode(any.value.as_slice()).unwrap();
    let (mut header_bytes_edits, mut msg_bytes_edits) = (vec![], vec![]);
    {
        let sh = header.signed_header.as_mut().unwrap();
        for e in edits {
            let hd = sh.header.as_mut().unwrap();
            let commit = sh.commit.as_mut().unwrap();
            match e {
                H::SignatureFlip(v, b, m) => {
                    if let Some(sig) = pick(&mut commit.signatures, v) {
                        let n = sig.signature.len();
                        if n > 0 {
                            sig.signature[b.index(n)] ^= m;
                        }
                    }
                }
                H::SignatureAbsent(v) => {
                    if let Some(sig) = pick(&mut commit.signatures, v) {
                        *sig = tendermint_proto::types::CommitSig { block_id_flag: 1, ..Default::default() };
                    }
                }
                H::SignatureTimestamp(v, d) => {
                    if let Some(ts) = pick(&mut commit.signatures, v).and_then(|s| s.timestamp.as_mut()) {
                        ts.seconds = ts.seconds.wrapping_add(*d);
                    }
                }
                H::SignatureAddress(v, es) => {
                    if let Some(sig) = pick(&mut commit.signatures, v) {
                        sig.validator_address = apply_all(std::mem::take(&mut sig.validator_address), es);
                    }
                }
                H::HeaderHeight(d) => hd.height = hd.height.wrapping_add(*d),
                H::CommitHeight(d) => commit.height = commit.height.wrapping_add(*d),
                H::CommitRound(r) => commit.round = *r,
                H::HeaderTime(d) => {
                    if let Some(t) = hd.time.as_mut() {
                        t.seconds = t.seconds.wrapping_add(*d);
                    }
                }
                H::AppHash(es) => hd.app_hash = apply_all(std::mem::take(&mut hd.app_hash), es),
                H::ChainId(c) => hd.chain_id = c.clone(),
                H::ValidatorsHash(es) => hd.validators_hash = apply_all(std::mem::take(&mut hd.validators_hash), es),
                H::NextValidatorsHash(es) => hd.next_validators_hash = apply_all(std::mem::take(&mut hd.next_validators_hash), es),
                H::CommitBlockHash(es) => {
                    if let Some(id) = commit.block_id.as_mut() {
                        id.hash = apply_all(std::mem::take(&mut id.hash), es);
                    }
                }
                H::ValidatorPower(i, p) => {
                    if let Some(v) = header.validator_set.as_mut().and_then(|s| pick(&mut s.validators, i)) {
                        v.voting_power = *p;
                    }
                }
                H::ValidatorKey(i, es) => {
                    if let Some(v) = header.validator_set.as_mut().and_then(|s| pick(&mut s.validators, i)) {
                        if let Some(tendermint_proto::crypto::public_key::Sum::Ed25519(key)) = v.pub_key.as_mut().and_then(|pk| pk.sum.as_mut()) {
                            let old: Vec<u8> = std::mem::take(key);
                            *key = apply_all(old, es);
                        }
                    }
                }
                H::DropValidator(i) => {
                    if let Some(s) = header.validator_set.as_mut() {
                        if !s.validators.is_empty() {
                            let n = s.validators.len();
                            s.validators.remove(i.index(n));
                        }
                    }
                }
                H::NoValidatorSet => header.validator_set = None,
                H::TotalVotingPower(p) => {
                    if let Some(s) = header.validator_set.as_mut() {
                        s.total_voting_power = *p;
                    }
                }
                H::TrustedHeight(d) => {
                    if let Some(h) = header.trusted_height.as_mut() {
                        h.revision_height = h.revision_height.wrapping_add_signed(*d);
                    }
                }
                H::TrustedRevision(r) => {
                    if let Some(h) = header.trusted_height.as_mut() {
                        h.revision_number = *r;
                    }
                }
                H::TrustedValidatorPower(i, p) => {
                    if let Some(v) = header.trusted_validators.as_mut().and_then(|s| pick(&mut s.validators, i)) {
                        v.voting_power = *p;
                    }
                }
                H::DropTrustedValidator(i) => {
                    if let Some(s) = header.trusted_validators.as_mut() {
                        if !s.validators.is_empty() {
                            let n = s.validators.len();
                            s.validators.remove(i.index(n));
                        }
                    }
                }
                H::NoTrustedValidators => header.trusted_validators = None,
                H::ClientId(c) => msg.client_id = c.clone(),
                H::ClientMessageUrl(u) => any.type_url = u.clone(),
                H::HeaderEncoded(es) => header_bytes_edits.extend(es.iter().cloned()),
                H::Encoded(es) => msg_bytes_edits.extend(es.iter().cloned()),
            }
        }
    }
    any.value = apply_all(header.encode_to_vec(), &header_bytes_edits);
    raw_any(UPDATE_URL, apply_all(msg.encode_to_vec(), &msg_bytes_edits))
}

/// A's client of B: an honest update to B's newest block, not yet sent,
/// and the consensus state it installs (its key and its encoding).
struct UpdateFixture {
    good: cl::MsgUpdateClient,
    height: u64,
    consensus_key: String,
    consensus_state: Vec<u8>,
}

async fn update_fixture(net: &mut Net) -> UpdateFixture {
    use ibc_core::primitives::proto::Protobuf;
    net.b.block(vec![]).await;
    net.a.time = net.a.time.max(net.b.time);
    let h = net.b.height;
    let any = update_client_msg(&net.b, &net.r.ids.client_on_a, net.r.trusted_on_a, h, &relayer_a());
    let cs = ibc_client_tendermint::types::ConsensusState::from(net.b.light.headers[&h].header.clone());
    let cs = ibc_client_tendermint::consensus_state::ConsensusState::from(cs);
    UpdateFixture {
        good: decode_any(&any),
        height: h,
        consensus_key: format!("clients/{}/consensusStates/0-{h}", net.r.ids.client_on_a),
        consensus_state: Protobuf::<ibc_core::primitives::proto::Any>::encode_vec(cs),
    }
}

#[test]
fn mutated_client_updates_install_the_honest_header_or_change_nothing() {
    let rt = runtime();
    let net = RefCell::new(rt.block_on(Net::new()));
    let fixture: RefCell<Option<UpdateFixture>> = RefCell::new(None);
    check("client update", cases(24), prop::collection::vec(header_edit(), 1..4), |edits| {
        rt.block_on(async {
            let net = &mut *net.borrow_mut();
            let mut fixture = fixture.borrow_mut();
            if fixture.is_none() {
                *fixture = Some(update_fixture(net).await);
            }
            let f = fixture.take().unwrap();
            let run = run(&mut net.a, &relayer_a(), mutate_update(&f.good, &edits)).await;
            match &run.out.result {
                Err(_) => {
                    run.assert_unchanged("a refused client update");
                    *fixture = Some(f);
                    "refused"
                }
                Ok(()) => {
                    // Whatever was changed, what the client now trusts is B's honest header.
                    assert_eq!(ibc_value(&run.ibc_after, &f.consensus_key), Some(f.consensus_state.as_slice()), "the honest consensus state");
                    let cs = ibc_value(&run.ibc_after, &format!("clients/{}/clientState", net.r.ids.client_on_a)).unwrap();
                    let cs = <ibc_client_tendermint::client_state::ClientState as ibc_core::primitives::proto::Protobuf<ibc_core::primitives::proto::Any>>::decode_vec(cs).unwrap();
                    assert!(!cs.inner().is_frozen(), "not frozen");
                    assert!(run.changed_keys().iter().all(|k| k.starts_with(&format!("clients/{}/", net.r.ids.client_on_a))), "{:?}", run.changed_keys());
                    assert!(run.bank_before == run.bank_after);
                    net.r.trusted_on_a = net.r.trusted_on_a.max(f.height);
                    "installed"
                }
            }
        })
    });
}

// ---------------------------------------------------------------------------
// (c) ICS-20 receipt of whatever a proven packet carries.

fn aegis_address() -> impl Strategy<Value = String> {
    any::<[u8; 20]>().prop_map(|b| Address(b).to_string())
}

/// Receivers, valid Aegis addresses and not.
fn receiver() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(bob().address.to_string()),
        aegis_address(),
        aegis_address().prop_map(|a| a.to_uppercase()),
        aegis_address().prop_map(|a| format!(" {a}")),
        aegis_address().prop_map(|a| a.replacen("aegis", "cosmos", 1)),
        "cosmos1[02-9ac-hj-np-z]{38}",
        "\\PC{1,80}",
    ]
}

#[derive(Clone, Debug)]
struct Transfer {
    receiver: String,
    memo: String,
    amount: u128,
}

fn ics20_transfer() -> impl Strategy<Value = Transfer> {
    (receiver(), prop_oneof![Just(String::new()), "\\PC{0,200}", Just(r#"{"forward":{"receiver":"x","port":"transfer","channel":"channel-9"}}"#.to_string())], prop_oneof![8 => 1u128..1_000_000, 1 => Just(FUNDS + 1), 1 => Just(u128::MAX)])
        .prop_map(|(receiver, memo, amount)| Transfer { receiver, memo, amount })
}

fn is_success_ack(ack: &[u8]) -> bool {
    let v: serde_json::Value = serde_json::from_slice(ack).unwrap_or_else(|e| panic!("ack {:?} is not JSON: {e}", String::from_utf8_lossy(ack)));
    match (v.get("result"), v.get("error")) {
        (Some(_), None) => true,
        (None, Some(_)) => false,
        _ => panic!("ack {v} is neither a result nor an error"),
    }
}

#[test]
fn any_transfer_alice_can_send_is_received_with_an_ack_and_an_error_ack_refunds() {
    let rt = runtime();
    let net = RefCell::new(rt.block_on(Net::new()));
    let escrow = escrow_address("transfer", "channel-0");
    let voucher = format!("ibc/{}", denom_hash("transfer/channel-0/uaegis"));
    check("transfer", cases(24), ics20_transfer(), |t| {
        rt.block_on(async {
            let net = &mut *net.borrow_mut();
            let (alice_before, escrow_before) = (net.a.balance(&alice().address, NATIVE_DENOM).await, net.a.balance(&escrow, NATIVE_DENOM).await);
            let msg = transfer_msg(&alice().address.to_string(), &t.receiver, NATIVE_DENOM, t.amount, &t.memo, FAR);
            let run_a = run(&mut net.a, &alice(), msg).await;
            if let Err(e) = &run_a.out.result {
                assert!(t.amount > alice_before, "refused: {}", e.message);
                run_a.assert_unchanged("a refused transfer");
                return "refused on A";
            }
            let packets = sent_packets(&run_a.out.events);
            // Receive on B: always a success, with an acknowledgement.
            let msgs = net.r.recv_batch(&mut net.a, &mut net.b, Side::A, &packets).await;
            let (bank_before, supply_before) = (bank_state(&net.b).await, net.b.supply(&voucher).await);
            let out = net.b.exec(&relayer_b(), msgs).await;
            ok(&out, "receive");
            let acks = written_acks(&out.events);
            assert_eq!(acks.len(), 1);
            let success = is_success_ack(&acks[0].1);
            let receiver = Address::parse(&t.receiver).ok();
            assert_eq!(success, receiver.is_some(), "success ack iff {:?} is an Aegis address; ack {}", t.receiver, String::from_utf8_lossy(&acks[0].1));
            if let Some(to) = receiver {
                assert_eq!(net.b.supply(&voucher).await, supply_before + t.amount);
                assert!(net.b.balance(&to, &voucher).await >= t.amount);
            } else {
                assert!(bank_state(&net.b).await == bank_before, "an error ack moves no token");
            }
            // The ack back on A: kept on success, refunded on error.
            let msgs = net.r.ack_batch(&mut net.b, &mut net.a, Side::B, &acks).await;
            ok(&net.a.exec(&relayer_a(), msgs).await, "acknowledgement");
            let (alice_after, escrow_after) = (net.a.balance(&alice().address, NATIVE_DENOM).await, net.a.balance(&escrow, NATIVE_DENOM).await);
            if success {
                assert_eq!((alice_after, escrow_after), (alice_before - t.amount, escrow_before + t.amount));
                "success ack"
            } else {
                assert_eq!((alice_after, escrow_after), (alice_before, escrow_before), "refunded");
                "error ack, refunded"
            }
        })
    });
}

/// Packet data as a sending chain's module could commit it.
fn packet_data() -> impl Strategy<Value = Vec<u8>> {
    let json_leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_map(|n| serde_json::json!(n)),
        "\\PC{0,20}".prop_map(serde_json::Value::String),
    ];
    let json = json_leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z]{0,8}", inner, 0..4).prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    let string = |palette: Vec<&'static str>| {
        prop_oneof![
            3 => prop::sample::select(palette).prop_map(str::to_string),
            1 => "\\PC{0,30}",
        ]
        .prop_map(serde_json::Value::String)
    };
    let field = |palette: Vec<&'static str>| prop::option::weighted(0.9, prop_oneof![9 => string(palette), 1 => any::<i64>().prop_map(|n| serde_json::json!(n))]);
    let bob = Box::leak(bob().address.to_string().into_boxed_str()) as &'static str;
    let alice = Box::leak(alice().address.to_string().into_boxed_str()) as &'static str;
    let token = (
        field(vec!["uatom", "transfer/channel-0/uaegis", "transfer/channel-0/uatom", "transfer/channel-7/uatom", "transfer/channel-0/", "uaegis", "", "ibc/ABC", "a/b/c"]),
        field(vec![
            "0",
            "1",
            "1000",
            "340282366920938463463374607431768211455",
            "340282366920938463463374607431768211456",
            "115792089237316195423570985008687907853269984665640564039457584007913129639935",
            "115792089237316195423570985008687907853269984665640564039457584007913129639936",
            "-1",
            "1e3",
            " 1",
            "01",
            "",
        ]),
        field(vec![alice, "", "cosmos1xyz"]),
        field(vec![bob, "", "cosmos1xyz"]),
        field(vec!["", "hello", r#"{"wasm":{}}"#]),
        prop::option::weighted(0.1, "[a-z]{1,8}"),
    )
        .prop_map(|(denom, amount, sender, receiver, memo, extra)| {
            let mut m = serde_json::Map::new();
            for (k, v) in [("denom", denom), ("amount", amount), ("sender", sender), ("receiver", receiver), ("memo", memo)] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            if let Some(k) = extra {
                m.insert(k, serde_json::json!("extra"));
            }
            serde_json::to_vec(&serde_json::Value::Object(m)).unwrap()
        });
    // A well-formed transfer, one field at a time made odd.
    let valid = (
        prop::sample::select(vec!["uatom", "transfer/channel-0/uaegis", "transfer/channel-7/uatom", "a/b/c"]),
        prop_oneof![Just(1u128), 1u128..1_000_000_000, Just(u128::MAX)],
        prop::option::of((0..5usize, "\\PC{0,12}")),
    )
        .prop_map(move |(denom, amount, odd)| {
            let mut m = serde_json::json!({ "denom": denom, "amount": amount.to_string(), "sender": alice, "receiver": bob, "memo": "" });
            if let Some((field, value)) = odd {
                m[["denom", "amount", "sender", "receiver", "memo"][field]] = serde_json::Value::String(value);
            }
            serde_json::to_vec(&m).unwrap()
        });
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 1..120),
        1 => json.prop_map(|v| serde_json::to_vec(&v).unwrap()),
        3 => token,
        3 => valid,
    ]
}

#[test]
fn any_proven_transfer_packet_data_is_received_with_an_ack_and_an_error_ack_moves_nothing() {
    let rt = runtime();
    let net = RefCell::new(rt.block_on(Net::new()));
    check("packet data", cases(24), packet_data(), |data| {
        rt.block_on(async {
            let net = &mut *net.borrow_mut();
            // Any bytes, UTF-8 or not, can be sent.
            let packet = send_raw_packet(&mut net.a, "transfer", "channel-0", data.clone(), FAR).await.unwrap_or_else(|e| panic!("ibc-rs refused to send {data:?}: {e}"));
            let msgs = net.r.recv_batch(&mut net.a, &mut net.b, Side::A, std::slice::from_ref(&packet)).await;
            ok(&net.b.exec(&relayer_b(), vec![msgs[0].clone()]).await, "update B's client");
            let run = run(&mut net.b, &relayer_b(), msgs[1].clone()).await;
            ok(&run.out, "receive");
            assert_eq!(packet_result(&run.out), SUCCESS);
            let acks = written_acks(&run.out.events);
            assert_eq!(acks.len(), 1);
            let seq = packet.sequence;
            let receipt_and_ack =
                vec![format!("acks/ports/transfer/channels/channel-0/sequences/{seq}"), format!("receipts/ports/transfer/channels/channel-0/sequences/{seq}")];
            let text = String::from_utf8_lossy(&data);
            if is_success_ack(&acks[0].1) {
                // Vouchers minted (or tokens unescrowed) for a well-formed
                // transfer (ibc-go's ValidateBasic) of a positive amount.
                let v: serde_json::Value = serde_json::from_slice(&data).unwrap();
                let field = |k: &str| v.get(k).and_then(|f| f.as_str()).unwrap_or_else(|| panic!("a success ack without a string {k}: {text}"));
                let amount = field("amount").parse::<u128>().unwrap_or_else(|e| panic!("a success ack for amount {:?} ({e}): {text}", field("amount")));
                assert!(amount > 0, "a success ack for a zero amount: {text}");
                assert!(!field("sender").trim().is_empty() && !field("denom").trim().is_empty(), "a success ack without a sender or denom: {text}");
                assert!(Address::parse(field("receiver")).is_ok());
                assert!(run.bank_before != run.bank_after, "a success ack moves tokens: {text}");
                "success ack"
            } else {
                assert!(run.bank_before == run.bank_after, "an error ack moves no token: {text}");
                assert_eq!(run.changed_keys(), receipt_and_ack, "an error ack writes only the receipt and the ack: {text}");
                "error ack"
            }
        })
    });
}
