//! The node's servers under bad or oversized input, and the CLI's output
//! edges: a 2 MB BroadcastTx is refused with the sizes named and nothing
//! changes, a request above gRPC's limit names that limit, garbage tx bytes
//! get the SDK's parse error, reflection lists exactly the served services,
//! `pruning_keep_recent` decides which past heights answer, `--output text`
//! reads as text, and a closed stdout ends the CLI without a panic.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Devnet, AEGISD};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{query_client::QueryClient as BankClient, QueryBalanceRequest};
use cosmos_sdk_proto::cosmos::tx::v1beta1::{service_client::ServiceClient as TxClient, BroadcastMode, BroadcastTxRequest};

/// Ports 30900..30959 (one validator: base + 55..59).
const BASE_PORT: u16 = 30900;

/// The services `aegisd start` serves, as `grpcurl list` prints them.
const SERVED: &[&str] = &[
    "aegis.auth.v1.Query",
    "aegis.avs.v1.Query",
    "aegis.consumer.v1.Query",
    "aegis.delegation.v1.Query",
    "aegis.provider.v1.Query",
    "aegis.restaking.v1.Query",
    "aegis.rewards.v1.Query",
    "aegis.slashing.v1.Query",
    "cosmos.auth.v1beta1.Query",
    "cosmos.bank.v1beta1.Query",
    "cosmos.base.tendermint.v1beta1.Service",
    "cosmos.staking.v1beta1.Query",
    "cosmos.tx.v1beta1.Service",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "ibc.applications.transfer.v1.Query",
    "ibc.core.channel.v1.Query",
    "ibc.core.client.v1.Query",
    "ibc.core.connection.v1.Query",
    "interchain_security.ccv.consumer.v1.Query",
];

#[test]
fn a_closed_stdout_ends_the_cli_quietly() {
    let home = tempfile::tempdir().unwrap();
    let added = Command::new(AEGISD).args(["keys", "add", "alice", "--home"]).arg(home.path()).output().unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    for args in [&["keys", "list"][..], &["--help"][..], &["query", "--help"][..]] {
        // A pipe whose reader is already gone: the first write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(AEGISD).args(args).arg("--home").arg(home.path()).stdout(writer).stderr(Stdio::piped()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "aegisd {args:?}: {stderr}");
        assert_eq!(stderr, "", "aegisd {args:?}");
        // Ended by SIGPIPE (status 141 in a shell), as `cat` would be.
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&out.status), Some(libc::SIGPIPE), "aegisd {args:?}: {:?}", out.status);
    }
}

fn grpcurl_list(grpc: &str) -> Vec<String> {
    let target = grpc.trim_start_matches("http://");
    let out = Command::new("grpcurl").args(["-plaintext", target, "list"]).output().expect("grpcurl (scripts/prereqs.sh --test installs it)");
    assert!(out.status.success(), "grpcurl list: {}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    names.sort();
    names
}

async fn faucet_balance(grpc: &tonic::transport::Channel, address: &str, height: Option<u64>) -> Result<String, tonic::Status> {
    let mut req = tonic::Request::new(QueryBalanceRequest { address: address.into(), denom: "uaegis".into() });
    if let Some(h) = height {
        req.metadata_mut().insert("x-cosmos-block-height", h.to_string().parse().unwrap());
    }
    let r = BankClient::new(grpc.clone()).balance(req).await?;
    Ok(r.into_inner().balance.unwrap().amount)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_refuse_bad_input_clearly_and_keep_the_configured_heights() {
    let mut net = Devnet::start(1, BASE_PORT).await;
    let faucet = net.accounts[0].1.clone();
    let channel = net.grpc(0).await.channel();

    // Reflection names exactly what is served.
    let expected: Vec<String> = SERVED.iter().map(|s| s.to_string()).collect();
    assert_eq!(grpcurl_list(&net.nodes[0].grpc), expected);

    // A 2 MB tx: refused before CometBFT, with both sizes, and nothing changes.
    let before = faucet_balance(&channel, &faucet, None).await.unwrap();
    let mut tx = TxClient::new(channel.clone()).max_encoding_message_size(16 << 20);
    let sync = BroadcastMode::Sync as i32;
    let err = tx.broadcast_tx(BroadcastTxRequest { tx_bytes: vec![7; 2_000_000], mode: sync }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert_eq!(err.message(), "tx too large: 2000000 bytes, max 1048576");
    let unconfirmed = net.rpc_json(0, "num_unconfirmed_txs");
    assert_eq!(unconfirmed["n_txs"], "0", "{unconfirmed}");

    // Above the 4 MiB request limit: tonic's own status, naming both sizes.
    let huge = BroadcastTxRequest { tx_bytes: vec![7; 5_000_000], mode: sync };
    let size = prost::Message::encoded_len(&huge);
    let err = tx.broadcast_tx(huge).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::OutOfRange, "{err:?}");
    assert!(err.message().contains(&format!("found {size} bytes, the limit is: 4194304 bytes")), "{err:?}");

    // Garbage bytes: CheckTx's answer, the SDK's code 2, in one line.
    let r = tx.broadcast_tx(BroadcastTxRequest { tx_bytes: b"not a tx".to_vec(), mode: sync }).await.unwrap().into_inner().tx_response.unwrap();
    assert_eq!((r.code, r.codespace.as_str()), (2, "sdk"), "{r:?}");
    assert!(r.raw_log.starts_with("tx parse error: tx bytes are not a TxRaw"), "{}", r.raw_log);
    assert!(!r.raw_log.contains('\n'), "{}", r.raw_log);
    assert_eq!(faucet_balance(&channel, &faucet, None).await.unwrap(), before);

    // A request body that is not the method's message: gRPC's INTERNAL (as the
    // gRPC spec and grpc-go, so the Cosmos SDK, answer it), naming the field.
    let mut raw = tonic::client::Grpc::new(channel.clone());
    raw.ready().await.unwrap();
    let wrong = cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest { offset: 5, ..Default::default() };
    let codec = tonic::codec::ProstCodec::<_, cosmos_sdk_proto::cosmos::bank::v1beta1::QueryBalanceResponse>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/cosmos.bank.v1beta1.Query/Balance");
    let err = raw.unary(tonic::Request::new(wrong), path, codec).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Internal, "{err:?}");
    assert_eq!(err.message(), "failed to decode Protobuf message: QueryBalanceRequest.denom: invalid wire type: Varint (expected LengthDelimited)");
    // A well-formed request with a bad field: InvalidArgument naming it.
    let err = faucet_balance(&channel, "aegis1nope", None).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("aegis1nope"), "{err:?}");

    // --output text: one field per line, durations explained.
    let out = Command::new(AEGISD)
        .args(["query", "restaking", "params", "--output", "text", "--grpc", &net.nodes[0].grpc])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("params:\n  authority: aegis1"), "{text}");
    assert!(text.ends_with("\n  withdrawal_delay_seconds: 20 (20s)\n"), "{text}");

    // The same view in both formats: text names the token value of shares and the decimal of a WAD.
    let val0 = net.accounts.iter().find(|a| a.0 == "val0").expect("val0 in endpoints.json").1.clone();
    let cli = |format: &str| {
        let out = Command::new(AEGISD)
            .args(["query", "delegation", "operator", &val0, "--output", format, "--grpc", &net.nodes[0].grpc])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&cli("json")).unwrap();
    let stake = json["operator"]["stake"].as_array().unwrap().iter().find(|s| s["denom"] == "uaegis").unwrap().clone();
    let (shares, tokens) = (stake["shares"].as_str().unwrap(), stake["tokens"].as_str().unwrap());
    assert_eq!(shares, format!("{tokens}000000000"), "a fresh pool: 10^9 shares per token");
    let text = cli("text");
    assert!(
        text.contains(&format!(
            "  stake:\n    - denom: uaegis\n      max_magnitude: 1000000000000000000 (1)\n      queued_scaled_shares: 0\n      shares: {shares} shares (= {tokens} uaegis at the current rate)\n      tokens: {tokens}\n"
        )),
        "{text}"
    );

    // Retained heights: keep 20, restart, and let 25 blocks pass.
    let before_restart = net.height(0).await;
    assert!(before_restart >= 2, "height {before_restart}");
    net.kill_cometbft(0);
    net.kill_aegisd(0);
    let app_toml = net.nodes[0].home.join("config/app.toml");
    let cfg = std::fs::read_to_string(&app_toml).unwrap();
    assert!(cfg.contains("pruning_keep_recent = 1000\n"), "{cfg}");
    // And index only transfer recipients (the SDK's index-events).
    assert!(cfg.contains("index_events = []\n"), "{cfg}");
    let cfg = cfg.replace("pruning_keep_recent = 1000\n", "pruning_keep_recent = 20\n").replace("index_events = []\n", "index_events = [\"transfer.recipient\"]\n");
    std::fs::write(&app_toml, cfg).unwrap();
    net.start_aegisd(0);
    net.start_cometbft(0);
    net.wait_height(0, before_restart + 3, Duration::from_secs(60)).await;
    let recipient = aegis_app::testkit::test_signer("indexed-recipient").address;
    let faucet_signer = net.faucet();
    let price = aegis_app::auth::params::MinGasPrice::parse("0.025uaegis").unwrap();
    let sent = net
        .grpc(0)
        .await
        .sign_and_broadcast(&faucet_signer, vec![faucet_signer.msg_send(&recipient, &[aegis_app::types::Coin::new("uaegis", 5)])], Some(200_000), &price, "", None)
        .await
        .unwrap();
    assert_eq!(sent.code, 0, "{sent:?}");
    let search = |query: String| {
        let mut found = serde_json::Value::Null;
        for _ in 0..100 {
            found = net.rpc_json(0, &format!("tx_search?query=%22{}%22", query.replace(' ', "%20").replace('\'', "%27")));
            if found["total_count"] != "0" {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        found
    };
    let by_recipient = search(format!("transfer.recipient='{recipient}'"));
    assert_eq!(by_recipient["total_count"], "1", "{by_recipient}");
    assert_eq!(by_recipient["txs"][0]["hash"], sent.txhash, "{by_recipient}");
    // The same tx's sender (and amount, and message action) is not indexed.
    let height = by_recipient["txs"][0]["height"].as_str().unwrap().to_string();
    let by_sender = net.rpc_json(0, &format!("tx_search?query=%22message.sender=%27{faucet}%27%20AND%20tx.height={height}%22"));
    assert_eq!(by_sender["total_count"], "0", "{by_sender}");
    let attrs: Vec<(String, bool)> = by_recipient["txs"][0]["tx_result"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["attributes"].as_array().unwrap().iter().map(move |a| (format!("{}.{}", e["type"].as_str().unwrap(), a["key"].as_str().unwrap()), a["index"].as_bool().unwrap())))
        .collect();
    assert!(attrs.iter().all(|(k, index)| *index == (k == "transfer.recipient")), "{attrs:?}");
    assert!(attrs.iter().any(|(k, _)| k == "message.sender"), "{attrs:?}");
    let after_send = faucet_balance(&net.grpc(0).await.channel(), &faucet, None).await.unwrap();
    assert_eq!(after_send.parse::<u128>().unwrap(), before.parse::<u128>().unwrap() - 5 - 5_000);
    net.wait_height(0, height.parse::<u64>().unwrap() + 16, Duration::from_secs(60)).await;
    let channel = net.grpc(0).await.channel();
    let latest = net.height(0).await;
    // 15 back: beyond cnidarium's own 10, within the configured 20.
    let old = faucet_balance(&channel, &faucet, Some(latest - 15)).await.unwrap();
    assert_eq!(old, after_send);
    // Before the restart: no longer retained, and the error says why.
    let err = faucet_balance(&channel, &faucet, Some(before_restart - 1)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().starts_with(&format!("invalid height: state at height {} is no longer retained (latest is ", before_restart - 1)),
        "{err:?}"
    );
    assert!(
        err.message().ends_with("this node keeps the 20 most recent heights, pruning_keep_recent in config/app.toml, and none from before its last restart)"),
        "{err:?}"
    );
}
