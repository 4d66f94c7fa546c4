//! The REST (LCD) API of `aegisd start` against a real one-validator devnet:
//! queries with exact values, an Aegis route, simulate, broadcast and
//! GetTx of a signed MsgSend, CORS, bad input that changes nothing, and the
//! README's curl examples. HTTP goes through the `curl` binary.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aegis_app::signer::{SignOptions, Signer};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_node::testnet::{FAUCET_BALANCE, FAUCET_LST_BALANCE, LST_DEPOSIT_CAP};
use base64::Engine;
use common::{repo_root, Devnet};
use serde_json::{json, Value};

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP request with curl; `body` is sent as JSON.
fn http(dir: &Path, method: &str, url: &str, headers: &[&str], body: Option<&[u8]>) -> Resp {
    let (hfile, bfile, dfile) = (dir.join("resp.headers"), dir.join("resp.body"), dir.join("req.body"));
    let _ = std::fs::remove_file(&hfile);
    let _ = std::fs::remove_file(&bfile);
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-X", method, "-H", "Expect:", "-w", "%{http_code}", "-D"]).arg(&hfile).arg("-o").arg(&bfile);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(b) = body {
        std::fs::write(&dfile, b).unwrap();
        cmd.args(["-H", "Content-Type: application/json", "--data-binary"]).arg(format!("@{}", dfile.display()));
    }
    let out = cmd.arg(url).output().unwrap();
    let status: u16 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("curl {url}: {}", String::from_utf8_lossy(&out.stderr)));
    let head = std::fs::read_to_string(&hfile).unwrap_or_default();
    // The last header block (after any interim response).
    let last = head.trim_end().rsplit("\r\n\r\n").next().unwrap_or_default();
    let headers = last.lines().skip(1).filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    Resp { status, headers, body: std::fs::read_to_string(&bfile).unwrap_or_default() }
}

struct Rest<'a> {
    url: String,
    dir: &'a Path,
}

impl Rest<'_> {
    fn get(&self, path: &str) -> Resp {
        http(self.dir, "GET", &format!("{}{path}", self.url), &[], None)
    }

    fn get_ok(&self, path: &str) -> Value {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        r.json()
    }

    fn post(&self, path: &str, body: &[u8]) -> Resp {
        http(self.dir, "POST", &format!("{}{path}", self.url), &[], Some(body))
    }

    fn wait_tx(&self, hash: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self.get(&format!("/cosmos/tx/v1beta1/txs/{hash}"));
            if r.status == 200 {
                return r.json();
            }
            assert_eq!(r.status, 404, "{}", r.body);
            assert!(Instant::now() < deadline, "tx {hash} not committed: {}", r.body);
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn signed_send(net: &Devnet, from: &Signer, to: &Address, amount: u128) -> Vec<u8> {
    let acc = net.grpc(0).await.account(&from.address).await.unwrap().expect("sender account");
    let mut opts = SignOptions::new(&net.chain_id, acc.account_number, acc.sequence);
    opts.fee = 5_000;
    opts.gas_limit = 200_000;
    from.sign(vec![from.msg_send(to, &[Coin::new(NATIVE_DENOM, amount)])], &opts).unwrap()
}

fn tx_hash(tx: &[u8]) -> String {
    use sha2::Digest;
    hex::encode_upper(sha2::Sha256::digest(tx))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_api_serves_queries_txs_cors_and_clear_errors() {
    let mut net = Devnet::start(1, 30000).await;
    let endpoints: Value = serde_json::from_slice(&std::fs::read(net.dir.path().join("endpoints.json")).unwrap()).unwrap();
    assert_eq!(endpoints["chains"][0]["nodes"][0]["rest"], "http://127.0.0.1:30054");
    let scratch = tempfile::tempdir().unwrap();
    let rest = Rest { url: "http://127.0.0.1:30054".into(), dir: scratch.path() };
    let faucet = net.faucet();
    let addr = faucet.address.to_string();

    // Bank and auth, before any tx: the genesis amounts.
    let balances = rest.get_ok(&format!("/cosmos/bank/v1beta1/balances/{addr}"));
    assert_eq!(
        balances["balances"],
        json!([
            {"denom": "stuaegis", "amount": FAUCET_LST_BALANCE.to_string()},
            {"denom": "uaegis", "amount": FAUCET_BALANCE.to_string()},
            {"denom": "uqaegis", "amount": FAUCET_LST_BALANCE.to_string()},
        ])
    );
    assert_eq!(
        rest.get_ok(&format!("/cosmos/bank/v1beta1/balances/{addr}/by_denom?denom=uaegis")),
        json!({"balance": {"denom": "uaegis", "amount": FAUCET_BALANCE.to_string()}})
    );
    let limited = rest.get_ok(&format!("/cosmos/bank/v1beta1/balances/{addr}?pagination.limit=1&pagination.count_total=true"));
    assert_eq!(limited["balances"], json!([{"denom": "stuaegis", "amount": FAUCET_LST_BALANCE.to_string()}]));
    assert_eq!(limited["pagination"]["total"], "3");
    let acc = net.grpc(0).await.account(&faucet.address).await.unwrap().unwrap();
    let account = rest.get_ok(&format!("/cosmos/auth/v1beta1/accounts/{addr}"));
    assert_eq!(account["account"]["@type"], "/cosmos.auth.v1beta1.BaseAccount");
    assert_eq!(account["account"]["address"], addr);
    assert_eq!(account["account"]["account_number"], acc.account_number.to_string());
    assert_eq!(account["account"]["sequence"], acc.sequence.to_string());

    // CometBFT-backed routes.
    let info = rest.get_ok("/cosmos/base/tendermint/v1beta1/node_info");
    assert_eq!(info["default_node_info"]["network"], "aegis-e2e");
    assert_eq!(info["default_node_info"]["moniker"], "val0");
    assert_eq!(info["application_version"]["app_name"], "aegisd");
    assert_eq!(rest.get_ok("/cosmos/base/tendermint/v1beta1/syncing"), json!({"syncing": false}));
    let latest = rest.get_ok("/cosmos/base/tendermint/v1beta1/blocks/latest");
    assert_eq!(latest["block"]["header"]["chain_id"], "aegis-e2e");
    let h: u64 = latest["block"]["header"]["height"].as_str().unwrap().parse().unwrap();
    assert!(h >= 2, "{latest}");
    let same = rest.get_ok(&format!("/cosmos/base/tendermint/v1beta1/blocks/{h}"));
    assert_eq!(same["block_id"], latest["block_id"]);
    assert_eq!(same["block"]["header"]["height"], h.to_string());

    // An Aegis route: the uqaegis strategy of genesis.
    let strategy = rest.get_ok("/aegis/restaking/v1/strategies/uqaegis");
    assert_eq!(strategy["strategy"]["denom"], "uqaegis");
    assert_eq!(strategy["strategy"]["deposit_cap"], LST_DEPOSIT_CAP.to_string());

    // Simulate, broadcast and find a signed MsgSend.
    let to = aegis_app::testkit::test_signer("rest-recipient").address;
    let tx = signed_send(&net, &faucet, &to, 4_321).await;
    let sim = rest.post("/cosmos/tx/v1beta1/simulate", json!({"tx_bytes": b64(&tx)}).to_string().as_bytes());
    assert_eq!(sim.status, 200, "{}", sim.body);
    let grpc_gas = net.grpc(0).await.simulate(tx.clone()).await.unwrap();
    assert_eq!(sim.json()["gas_info"]["gas_used"], grpc_gas.to_string());
    let sent = rest.post("/cosmos/tx/v1beta1/txs", json!({"tx_bytes": b64(&tx), "mode": "BROADCAST_MODE_SYNC"}).to_string().as_bytes());
    assert_eq!(sent.status, 200, "{}", sent.body);
    let sent = sent.json();
    assert_eq!(sent["tx_response"]["code"], 0, "{sent}");
    assert_eq!(sent["tx_response"]["txhash"], tx_hash(&tx));
    let found = rest.wait_tx(&tx_hash(&tx));
    assert_eq!(found["tx_response"]["code"], 0, "{found}");
    assert_eq!(found["tx_response"]["txhash"], tx_hash(&tx));
    assert_eq!(
        found["tx"]["body"]["messages"],
        json!([{"@type": "/cosmos.bank.v1beta1.MsgSend", "from_address": addr, "to_address": to.to_string(), "amount": [{"denom": "uaegis", "amount": "4321"}]}])
    );
    assert_eq!(found["tx"]["auth_info"]["fee"]["amount"], json!([{"denom": "uaegis", "amount": "5000"}]));
    let height = found["tx_response"]["height"].as_str().unwrap().to_string();
    net.wait_height(0, height.parse::<u64>().unwrap() + 1, Duration::from_secs(30)).await;
    assert_eq!(rest.get_ok(&format!("/cosmos/bank/v1beta1/balances/{to}/by_denom?denom=uaegis"))["balance"]["amount"], "4321");

    // The height header reads older state and is echoed.
    let before = http(scratch.path(), "GET", &format!("{}/cosmos/bank/v1beta1/balances/{to}/by_denom?denom=uaegis", rest.url), &[&format!("x-cosmos-block-height: {}", height.parse::<u64>().unwrap() - 1)], None);
    assert_eq!(before.status, 200, "{}", before.body);
    assert_eq!(before.json()["balance"]["amount"], "0");
    assert_eq!(before.header("x-cosmos-block-height"), Some((height.parse::<u64>().unwrap() - 1).to_string().as_str()));

    // Bad input: clear statuses and messages, and nothing changes.
    let faucet_uaegis = FAUCET_BALANCE - 4_321 - 5_000;
    let seq = acc.sequence + 1;
    let huge = vec![b' '; 3 * 1024 * 1024];
    let r = rest.post("/cosmos/tx/v1beta1/txs", &huge);
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.json(), json!({"code": 8, "message": format!("request body of {} bytes exceeds the limit of {} bytes", huge.len(), aegis_node::rest::MAX_BODY_BYTES), "details": []}));
    let r = rest.post("/cosmos/tx/v1beta1/txs", br#"{"tx_bytes": "#);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["code"], 3);
    assert!(r.json()["message"].as_str().unwrap().starts_with("invalid JSON body for cosmos.tx.v1beta1.BroadcastTxRequest: "), "{}", r.body);
    let r = rest.post("/cosmos/tx/v1beta1/txs", br#"{"tx_bytes": "AQID", "mode": "BROADCAST_MODE_SOMETIME"}"#);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("BROADCAST_MODE_SOMETIME"), "{}", r.body);
    let r = rest.get("/cosmos/nothing/v1/here");
    assert_eq!((r.status, r.json()), (501, json!({"code": 12, "message": "Not Implemented", "details": []})));
    let r = rest.get("/cosmos/tx/v1beta1/simulate");
    assert_eq!((r.status, r.json()), (501, json!({"code": 12, "message": "Method Not Allowed", "details": []})));
    let r = rest.get("/cosmos/bank/v1beta1/balances/notanaddress");
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["code"], 3);
    assert!(r.json()["message"].as_str().unwrap().contains("notanaddress"), "{}", r.body);
    let r = rest.get(&format!("/cosmos/tx/v1beta1/txs/{}", "AB".repeat(32)));
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.json(), json!({"code": 5, "message": format!("tx not found: {}", "AB".repeat(32)), "details": []}));
    let r = rest.get("/aegis/avs/v1/avss/not-a-number");
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["message"], "path parameter \"avs_id\": invalid value \"not-a-number\": not a uint64 (invalid digit found in string)");
    // A tx the chain rejects is answered like the SDK does: 200 and its code.
    let r = rest.post("/cosmos/tx/v1beta1/txs", json!({"tx_bytes": "AQID", "mode": "BROADCAST_MODE_SYNC"}).to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_ne!(r.json()["tx_response"]["code"], 0, "{}", r.body);
    let h_now = net.height(0).await;
    net.wait_height(0, h_now + 2, Duration::from_secs(30)).await;
    assert_eq!(rest.get_ok(&format!("/cosmos/bank/v1beta1/balances/{addr}/by_denom?denom=uaegis"))["balance"]["amount"], faucet_uaegis.to_string());
    assert_eq!(rest.get_ok(&format!("/cosmos/auth/v1beta1/accounts/{addr}"))["account"]["sequence"], seq.to_string());

    // No CORS by default.
    let r = http(scratch.path(), "GET", &format!("{}/cosmos/base/tendermint/v1beta1/syncing", rest.url), &["Origin: https://wallet.example"], None);
    assert_eq!((r.status, r.header("access-control-allow-origin")), (200, None));

    // The README's curl examples run as written (with this devnet's port,
    // the faucet's address and a signed tx).
    let tx2 = signed_send(&net, &faucet, &to, 1).await;
    run_readme_examples(&rest.url, &addr, &b64(&tx2), &tx_hash(&tx2));
    assert_eq!(rest.wait_tx(&tx_hash(&tx2))["tx_response"]["code"], 0);

    // Stock cosmjs signs; fetch() does the rest (node/tests/clients/cosmjs/lcd.mjs).
    let cosmjs = repo_root().join("node/tests/clients/cosmjs");
    assert!(cosmjs.join("node_modules/@cosmjs/stargate").exists(), "cosmjs is not installed: run `npm ci` in {}", cosmjs.display());
    let out = Command::new("node").arg("lcd.mjs").arg(net.dir.path().join("endpoints.json")).current_dir(&cosmjs).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "lcd.mjs failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!((summary["ok"].clone(), summary["recipient_balance"].clone()), (json!(true), json!("777")));

    // CORS from app.toml: restart the node with one allowed origin.
    net.kill_cometbft(0);
    net.kill_aegisd(0);
    let toml_path = net.nodes[0].home.join("config/app.toml");
    let mut cfg = aegis_node::config::AppConfig::load(&net.nodes[0].home).unwrap();
    cfg.api_cors_allowed_origins = vec!["https://wallet.example".into()];
    cfg.save(&net.nodes[0].home).unwrap();
    assert!(std::fs::read_to_string(&toml_path).unwrap().contains("api_cors_allowed_origins = [\"https://wallet.example\"]"));
    net.start_aegisd(0);
    net.start_cometbft(0);
    let h_now = net.height(0).await;
    net.wait_height(0, h_now + 1, Duration::from_secs(60)).await;
    let url = format!("{}/cosmos/bank/v1beta1/balances/{addr}", rest.url);
    let r = http(scratch.path(), "GET", &url, &["Origin: https://wallet.example"], None);
    assert_eq!((r.status, r.header("access-control-allow-origin"), r.header("vary")), (200, Some("https://wallet.example"), Some("Origin")));
    let r = http(scratch.path(), "GET", &url, &["Origin: https://evil.example"], None);
    assert_eq!((r.status, r.header("access-control-allow-origin")), (200, None));
    let r = http(scratch.path(), "OPTIONS", &url, &["Origin: https://wallet.example", "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: content-type"], None);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://wallet.example"));
    assert_eq!(r.header("access-control-allow-methods"), Some("GET, POST, PUT, PATCH, DELETE, OPTIONS"));
    assert_eq!(r.header("access-control-allow-headers"), Some("content-type"));
    let r = http(scratch.path(), "OPTIONS", &url, &["Origin: https://evil.example", "Access-Control-Request-Method: GET"], None);
    assert_eq!((r.status, r.header("access-control-allow-origin")), (501, None));
}

/// Run each `curl` line of README's "REST API" ```sh block (after its
/// variable lines) with bash; each must exit 0 and print JSON.
fn run_readme_examples(rest: &str, addr: &str, tx_b64: &str, hash: &str) {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme.split("\n### REST API").nth(1).expect("README has a \"### REST API\" section");
    let block = section.split("```sh\n").nth(1).and_then(|b| b.split("\n```").next()).expect("a ```sh block in README's REST API section");
    let block = block
        .replace("http://127.0.0.1:26654", rest)
        .replace("aegis1...", addr)
        .replace("<base64 TxRaw>", tx_b64)
        .replace("<TXHASH>", hash);
    let (vars, curls): (Vec<&str>, Vec<&str>) = block.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).partition(|l| !l.trim_start().starts_with("curl"));
    assert!(curls.len() >= 8, "README REST block has {} curl lines:\n{block}", curls.len());
    for line in curls {
        let script = format!("set -e\n{}\n{line}\n", vars.join("\n"));
        let out = Command::new("bash").arg("-c").arg(&script).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "README line failed: {line}\n{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("README line {line} printed no JSON ({e}): {stdout}"));
        assert!(v.is_object(), "{line}: {v}");
    }
}
