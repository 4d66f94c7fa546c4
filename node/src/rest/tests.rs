use cosmos_sdk_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountResponse};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{QueryAllBalancesRequest, QueryBalanceResponse, QuerySendEnabledRequest};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{BroadcastTxRequest, SimulateRequest};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::json;

use super::route::{Lookup, PathTemplate, RouteTable, Segment};
use super::json::{to_json, to_json_text};
use super::transcode::build_request;

fn pool() -> DescriptorPool {
    crate::descriptors::pool().clone()
}

fn table() -> RouteTable {
    RouteTable::from_pool(&pool()).unwrap()
}

fn bound(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn templates_parse_literals_variables_and_wildcards() {
    let t = PathTemplate::parse("/cosmos/bank/v1beta1/balances/{address}/by_denom").unwrap();
    assert_eq!(
        t.segments,
        vec![
            Segment::Literal("cosmos".into()),
            Segment::Literal("bank".into()),
            Segment::Literal("v1beta1".into()),
            Segment::Literal("balances".into()),
            Segment::Var("address".into()),
            Segment::Literal("by_denom".into()),
        ]
    );
    let t = PathTemplate::parse("/ibc/apps/transfer/v1/denoms/{denom=**}/total_escrow").unwrap();
    assert_eq!(t.segments[5], Segment::VarRest("denom".into()));
    assert_eq!(PathTemplate::parse("/a/*/b/**").unwrap().segments[1..], [Segment::Any, Segment::Literal("b".into()), Segment::AnyRest]);
    assert_eq!(PathTemplate::parse("/v1/{name}:cancel").unwrap().verb.as_deref(), Some("cancel"));
    assert_eq!(PathTemplate::parse("a/b").unwrap_err(), "path template \"a/b\": must start with '/'");
    assert_eq!(PathTemplate::parse("/a/{b").unwrap_err(), "path template \"/a/{b\": unclosed '{'");
    assert_eq!(PathTemplate::parse("/a/").unwrap_err(), "path template \"/a/\": trailing '/'");
    assert_eq!(PathTemplate::parse("/a/{b=c/*}").unwrap_err(), "path template \"/a/{b=c/*}\": variable pattern \"c/*\" is not supported (only * and **)");
}

#[test]
fn a_variable_binds_one_decoded_segment_and_a_double_wildcard_binds_the_rest() {
    let t = PathTemplate::parse("/cosmos/bank/v1beta1/balances/{address}").unwrap();
    assert_eq!(t.matches("/cosmos/bank/v1beta1/balances/aegis1abc"), Some(bound(&[("address", "aegis1abc")])));
    assert_eq!(t.matches("/cosmos/bank/v1beta1/balances/a%2Fb"), Some(bound(&[("address", "a/b")])));
    assert_eq!(t.matches("/cosmos/bank/v1beta1/balances/aegis1abc/by_denom"), None);
    assert_eq!(t.matches("/cosmos/bank/v1beta1/balances/"), None);
    assert_eq!(t.matches("/cosmos/bank/v1beta1/balances"), None);

    let t = PathTemplate::parse("/ibc/apps/transfer/v1/denoms/{denom=**}/total_escrow").unwrap();
    assert_eq!(t.matches("/ibc/apps/transfer/v1/denoms/transfer/channel-0/uatom/total_escrow"), Some(bound(&[("denom", "transfer/channel-0/uatom")])));
    assert_eq!(t.matches("/ibc/apps/transfer/v1/denoms/uatom/total_escrow"), Some(bound(&[("denom", "uatom")])));
    assert_eq!(t.matches("/ibc/apps/transfer/v1/denoms/total_escrow"), None);

    let t = PathTemplate::parse("/aegis/restaking/v1/strategies/{denom=**}").unwrap();
    assert_eq!(t.matches("/aegis/restaking/v1/strategies/ibc/27394FB0"), Some(bound(&[("denom", "ibc/27394FB0")])));
}

#[test]
fn the_route_table_holds_every_annotated_query_and_picks_the_most_specific() {
    let t = table();
    let found = |m: &str, p: &str| match t.lookup(m, p) {
        Lookup::Found(r, b) => (r.method.full_name().to_string(), b),
        Lookup::WrongMethod => ("wrong method".into(), vec![]),
        Lookup::NotFound => ("not found".into(), vec![]),
    };
    assert_eq!(found("GET", "/cosmos/bank/v1beta1/balances/aegis1x"), ("cosmos.bank.v1beta1.Query.AllBalances".into(), bound(&[("address", "aegis1x")])));
    assert_eq!(found("GET", "/cosmos/bank/v1beta1/balances/aegis1x/by_denom"), ("cosmos.bank.v1beta1.Query.Balance".into(), bound(&[("address", "aegis1x")])));
    assert_eq!(found("GET", "/cosmos/tx/v1beta1/txs/block/7"), ("cosmos.tx.v1beta1.Service.GetBlockWithTxs".into(), bound(&[("height", "7")])));
    assert_eq!(found("GET", "/cosmos/tx/v1beta1/txs/ABCD"), ("cosmos.tx.v1beta1.Service.GetTx".into(), bound(&[("hash", "ABCD")])));
    assert_eq!(found("POST", "/cosmos/tx/v1beta1/txs").0, "cosmos.tx.v1beta1.Service.BroadcastTx");
    assert_eq!(found("GET", "/cosmos/base/tendermint/v1beta1/blocks/latest").0, "cosmos.base.tendermint.v1beta1.Service.GetLatestBlock");
    assert_eq!(found("GET", "/cosmos/base/tendermint/v1beta1/blocks/9").0, "cosmos.base.tendermint.v1beta1.Service.GetBlockByHeight");
    assert_eq!(found("GET", "/aegis/avs/v1/avss/3/operator_sets/1/members").0, "aegis.avs.v1.Query.OperatorSetMembers");
    assert_eq!(found("GET", "/ibc/core/channel/v1/channels/channel-0/ports/transfer").0, "ibc.core.channel.v1.Query.Channel");
    assert_eq!(found("GET", "/cosmos/tx/v1beta1/simulate").0, "wrong method");
    assert_eq!(found("GET", "/cosmos/bank/v1beta1/nothing").0, "not found");

    // Every query method of every Aegis service is routed.
    let pool = pool();
    for s in pool.services().filter(|s| s.package_name().starts_with("aegis.") && s.name() == "Query") {
        for m in s.methods() {
            assert!(t.routes().iter().any(|r| r.method.full_name() == m.full_name()), "{} has no route", m.full_name());
        }
    }
    // Msg services stay gRPC-only, as upstream.
    assert!(!t.routes().iter().any(|r| r.method.parent_service().name() == "Msg"));
}

#[test]
fn query_parameters_fill_nested_repeated_and_bytes_fields() {
    let t = table();
    let Lookup::Found(route, b) = t.lookup("GET", "/cosmos/bank/v1beta1/balances/aegis1x") else { panic!() };
    let msg = build_request(route, &b, Some("pagination.limit=5&pagination.key=AQID%2B%2F8%3D&pagination.count_total=true&pagination.reverse=1"), b"").unwrap();
    let req = QueryAllBalancesRequest::decode(msg.encode_to_vec().as_slice()).unwrap();
    assert_eq!(req.address, "aegis1x");
    let p = req.pagination.unwrap();
    assert_eq!((p.limit, p.key, p.count_total, p.reverse, p.offset), (5, vec![1, 2, 3, 0xfb, 0xff], true, true, 0));

    let Lookup::Found(route, b) = t.lookup("GET", "/cosmos/bank/v1beta1/send_enabled") else { panic!() };
    let msg = build_request(route, &b, Some("denoms=uaegis&denoms=ibc%2FAB"), b"").unwrap();
    assert_eq!(QuerySendEnabledRequest::decode(msg.encode_to_vec().as_slice()).unwrap().denoms, vec!["uaegis", "ibc/AB"]);

    let err = build_request(route, &b, Some("pagination.limit=lots"), b"").unwrap_err();
    assert_eq!(err.status, 400);
    assert_eq!(err.message, "query parameter \"pagination.limit\": invalid value \"lots\": not a uint64 (invalid digit found in string)");
    let err = build_request(route, &b, Some("colour=blue"), b"").unwrap_err();
    assert_eq!(err.message, "query parameter \"colour\": cosmos.bank.v1beta1.QuerySendEnabledRequest has no field \"colour\"");

    let Lookup::Found(route, b) = t.lookup("GET", "/aegis/avs/v1/avss/x1") else { panic!() };
    let err = build_request(route, &b, None, b"").unwrap_err();
    assert_eq!(err.message, "path parameter \"avs_id\": invalid value \"x1\": not a uint64 (invalid digit found in string)");
}

#[test]
fn a_json_body_fills_the_request_with_enums_by_name_and_bytes_in_base64() {
    let t = table();
    let Lookup::Found(route, b) = t.lookup("POST", "/cosmos/tx/v1beta1/txs") else { panic!() };
    let msg = build_request(route, &b, None, br#"{"tx_bytes": "AQID", "mode": "BROADCAST_MODE_SYNC"}"#).unwrap();
    let req = BroadcastTxRequest::decode(msg.encode_to_vec().as_slice()).unwrap();
    assert_eq!((req.tx_bytes, req.mode), (vec![1, 2, 3], 2));

    let err = build_request(route, &b, None, br#"{"tx_bytes": "AQID""#).unwrap_err();
    assert_eq!(err.status, 400);
    assert!(err.message.starts_with("invalid JSON body for cosmos.tx.v1beta1.BroadcastTxRequest: EOF while parsing an object"), "{}", err.message);
    let err = build_request(route, &b, None, br#"{"tx_bites": "AQID"}"#).unwrap_err();
    assert_eq!(err.message, "invalid JSON body for cosmos.tx.v1beta1.BroadcastTxRequest: unrecognized field name 'tx_bites' at line 1 column 11");
    let err = build_request(route, &b, None, br#"{"mode": "BROADCAST_MODE_SOON"}"#).unwrap_err();
    assert!(err.message.contains("BROADCAST_MODE_SOON"), "{}", err.message);
}

fn json_of<M: Message>(full_name: &str, m: &M) -> serde_json::Value {
    let desc = pool().get_message_by_name(full_name).unwrap();
    to_json(&DynamicMessage::decode(desc, m.encode_to_vec().as_slice()).unwrap()).unwrap()
}

#[test]
fn responses_use_proto_names_string_int64_base64_bytes_and_typed_any() {
    let account = BaseAccount { address: "aegis1x".into(), pub_key: None, account_number: 7, sequence: 3 };
    let resp = QueryAccountResponse {
        account: Some(cosmos_sdk_proto::Any { type_url: "/cosmos.auth.v1beta1.BaseAccount".into(), value: account.encode_to_vec() }),
    };
    assert_eq!(
        json_of("cosmos.auth.v1beta1.QueryAccountResponse", &resp),
        json!({"account": {"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": "aegis1x", "pub_key": null, "account_number": "7", "sequence": "3"}})
    );

    // Defaults are written, and an unset message is null.
    assert_eq!(json_of("cosmos.bank.v1beta1.QueryBalanceResponse", &QueryBalanceResponse { balance: None }), json!({"balance": null}));
    assert_eq!(
        json_of("cosmos.bank.v1beta1.QueryBalanceResponse", &QueryBalanceResponse { balance: Some(Coin { denom: "uaegis".into(), amount: "0".into() }) }),
        json!({"balance": {"denom": "uaegis", "amount": "0"}})
    );
    #[allow(deprecated)]
    let sim = SimulateRequest { tx: None, tx_bytes: vec![0xfb, 0xff, 0x01] };
    assert_eq!(json_of("cosmos.tx.v1beta1.SimulateRequest", &sim), json!({"tx": null, "tx_bytes": "+/8B"}));
    #[allow(deprecated)]
    let empty = SimulateRequest { tx: None, tx_bytes: vec![] };
    assert_eq!(json_of("cosmos.tx.v1beta1.SimulateRequest", &empty), json!({"tx": null, "tx_bytes": null}));
}



#[test]
fn nested_anys_resolve_and_unknown_ones_keep_their_bytes() {
    use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
    use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse;
    use cosmos_sdk_proto::cosmos::tx::v1beta1::{Tx, TxBody};
    let any = |url: &str, value: Vec<u8>| cosmos_sdk_proto::Any { type_url: url.into(), value };
    let send = MsgSend { from_address: "aegis1a".into(), to_address: "aegis1b".into(), amount: vec![Coin { denom: "uaegis".into(), amount: "5".into() }] };
    let body = TxBody { messages: vec![any("/cosmos.bank.v1beta1.MsgSend", send.encode_to_vec()), any("/x.y.Unknown", vec![1, 2])], memo: "m".into(), ..Default::default() };
    let tx = Tx { body: Some(body), auth_info: None, signatures: vec![vec![0xff]] };
    let resp = TxResponse { height: 12, txhash: "AB".into(), tx: Some(any("/cosmos.tx.v1beta1.Tx", tx.encode_to_vec())), ..Default::default() };
    let json = json_of("cosmos.base.abci.v1beta1.TxResponse", &resp);
    assert_eq!(json["height"], "12");
    assert_eq!(json["tx"]["@type"], "/cosmos.tx.v1beta1.Tx");
    assert_eq!(json["tx"]["signatures"], json!(["/w=="]));
    assert_eq!(json["tx"]["auth_info"], json!(null));
    assert_eq!(
        json["tx"]["body"]["messages"],
        json!([
            {"@type": "/cosmos.bank.v1beta1.MsgSend", "from_address": "aegis1a", "to_address": "aegis1b", "amount": [{"denom": "uaegis", "amount": "5"}]},
            {"@type": "/x.y.Unknown", "value": "AQI="}
        ])
    );
    assert_eq!(json["tx"]["body"]["timeout_height"], "0");
}

#[test]
fn the_keplr_chain_info_matches_the_devnet() {
    let info: serde_json::Value = serde_json::from_str(include_str!("../../../docs/keplr-devnet-chain-info.json")).unwrap();
    // scripts/devnet.sh: chain id aegis-devnet, base port 26600; node 0's RPC +57, REST +54.
    assert_eq!(info["chainId"], "aegis-devnet");
    assert_eq!(info["rpc"], "http://127.0.0.1:26657");
    let node0 = crate::testnet::NodeSpec::new(0, "/unused".into(), 26600).unwrap();
    assert_eq!(info["rest"], format!("http://127.0.0.1:{}", node0.api_port));
    assert_eq!(info["bech32Config"]["bech32PrefixAccAddr"], aegis_app::types::ADDRESS_PREFIX);
    assert_eq!(format!("m/44'/{}'/0'/0/0", info["bip44"]["coinType"]), aegis_app::signer::HD_PATH);
    assert_eq!(info["currencies"][0]["coinMinimalDenom"], aegis_app::types::NATIVE_DENOM);
    assert_eq!(info["feeCurrencies"][0]["coinMinimalDenom"], aegis_app::types::NATIVE_DENOM);
    let low = info["feeCurrencies"][0]["gasPriceStep"]["low"].as_f64().unwrap();
    assert_eq!(format!("{low}{}", aegis_app::types::NATIVE_DENOM), crate::config::AppConfig::default().minimum_gas_prices);
}

#[test]
fn ibc_client_states_render_from_ibc_protos_descriptors() {
    use ibc_proto_052::google::protobuf::{Any, Duration};
    use ibc_proto_052::ibc::core::client::v1::{Height, QueryClientStateResponse};
    use ibc_proto_052::ibc::lightclients::tendermint::v1::{ClientState, Fraction};
    let cs = ClientState {
        chain_id: "aegis-devnet-b".into(),
        trust_level: Some(Fraction { numerator: 1, denominator: 3 }),
        trusting_period: Some(Duration { seconds: 100, nanos: 0 }),
        latest_height: Some(Height { revision_number: 0, revision_height: 5 }),
        ..Default::default()
    };
    let resp = QueryClientStateResponse {
        client_state: Some(Any { type_url: "/ibc.lightclients.tendermint.v1.ClientState".into(), value: cs.encode_to_vec() }),
        proof: vec![],
        proof_height: Some(Height { revision_number: 0, revision_height: 9 }),
    };
    let json = json_of("ibc.core.client.v1.QueryClientStateResponse", &resp);
    let state = &json["client_state"];
    assert_eq!(state["@type"], "/ibc.lightclients.tendermint.v1.ClientState");
    assert_eq!(state["chain_id"], "aegis-devnet-b");
    assert_eq!(state["trust_level"], json!({"numerator": "1", "denominator": "3"}));
    assert_eq!(state["trusting_period"], "100s");
    assert_eq!(state["latest_height"], json!({"revision_number": "0", "revision_height": "5"}));
    assert_eq!(state["frozen_height"], json!(null));
    assert_eq!((json["proof"].clone(), json["proof_height"]["revision_height"].clone()), (json!(null), json!("9")));
}

#[test]
fn response_text_keeps_field_order_with_type_first() {
    let account = BaseAccount { address: "aegis1x".into(), pub_key: None, account_number: 7, sequence: 3 };
    let resp = QueryAccountResponse {
        account: Some(cosmos_sdk_proto::Any { type_url: "/cosmos.auth.v1beta1.BaseAccount".into(), value: account.encode_to_vec() }),
    };
    let desc = pool().get_message_by_name("cosmos.auth.v1beta1.QueryAccountResponse").unwrap();
    let text = to_json_text(&DynamicMessage::decode(desc, resp.encode_to_vec().as_slice()).unwrap()).unwrap();
    assert_eq!(text, r#"{"account":{"@type":"/cosmos.auth.v1beta1.BaseAccount","address":"aegis1x","pub_key":null,"account_number":"7","sequence":"3"}}"#);
    let bal = QueryBalanceResponse { balance: Some(Coin { denom: "uaegis".into(), amount: "5".into() }) };
    let desc = pool().get_message_by_name("cosmos.bank.v1beta1.QueryBalanceResponse").unwrap();
    let text = to_json_text(&DynamicMessage::decode(desc, bal.encode_to_vec().as_slice()).unwrap()).unwrap();
    assert_eq!(text, r#"{"balance":{"denom":"uaegis","amount":"5"}}"#);
}

#[test]
fn errors_are_the_gateways_json_with_its_http_status() {
    use super::error::RestError;
    use tonic::Code;
    let e = RestError::from(tonic::Status::not_found("tx not found: AB\"C"));
    assert_eq!((e.status.as_u16(), e.body()), (404, r#"{"code":5,"message":"tx not found: AB\"C","details":[]}"#.to_string()));
    assert_eq!(RestError::not_implemented().body(), r#"{"code":12,"message":"Not Implemented","details":[]}"#);
    for (code, status) in [
        (Code::InvalidArgument, 400),
        (Code::FailedPrecondition, 400),
        (Code::OutOfRange, 400),
        (Code::Unauthenticated, 401),
        (Code::PermissionDenied, 403),
        (Code::NotFound, 404),
        (Code::Cancelled, 408),
        (Code::AlreadyExists, 409),
        (Code::Aborted, 409),
        (Code::ResourceExhausted, 429),
        (Code::Internal, 500),
        (Code::Unknown, 500),
        (Code::DataLoss, 500),
        (Code::Unimplemented, 501),
        (Code::Unavailable, 503),
        (Code::DeadlineExceeded, 504),
    ] {
        assert_eq!(RestError::new(code, "x").status.as_u16(), status, "{code:?}");
    }
    assert_eq!(RestError::too_large("big").status.as_u16(), 413);
}
