//! The keyring and client.toml through the built `aegisd`: a `file`
//! keyring sealed with a passphrase (read from stdin or the environment,
//! refused when missing or wrong, before any network call), no address
//! twice, rename and delete; `aegisd config` and the precedence flag >
//! environment > client.toml > built-in default, against a real
//! one-validator devnet (ports 30600-30899).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use aegis_app::signer::Signer;
use aegis_node::testnet::FAUCET_BALANCE;
use common::{Devnet, AEGISD};
use serde_json::{json, Value};

const PASS: &str = "a long passphrase";
/// Nothing listens here (inside this test's port range, outside the devnet's).
const CLOSED_GRPC: &str = "http://127.0.0.1:30898";

/// `aegisd ARGS --home HOME` with `env` added, every other AEGIS_* variable
/// removed, and `stdin` as standard input (closed when `None`).
fn aegisd(home: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(AEGISD);
    cmd.args(args).arg("--home").arg(home);
    for (k, _) in std::env::vars() {
        if k.starts_with("AEGIS_") && k != "AEGIS_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn ok(out: Output) -> String {
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "aegisd failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    stdout
}

fn ok_json(out: Output) -> Value {
    let stdout = ok(out);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// The command failed; its stderr, which must be exactly `Error: {msg}`.
fn fails_with(out: Output, msg: &str) {
    assert!(!out.status.success(), "expected failure, got stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end(), format!("Error: {msg}"));
}

fn mnemonic(seed: u8) -> String {
    Signer::generate_mnemonic([seed; 32])
}

fn address_of(m: &str) -> String {
    Signer::from_mnemonic(m).unwrap().address.to_string()
}

#[test]
fn a_file_keyring_seals_its_keys_and_asks_for_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let file = &[("AEGIS_KEYRING_BACKEND", "file")];
    let with_pass = &[("AEGIS_KEYRING_BACKEND", "file"), ("AEGIS_KEYRING_PASSPHRASE", PASS)];
    let kdir = home.join("keyring-file");
    let m = mnemonic(21);
    let alice = address_of(&m);

    // The mnemonic on stdin's first line, the passphrase on the next.
    let added = ok_json(aegisd(home, &["keys", "add", "alice", "--recover", "--keyring-backend", "file"], &[], Some(&format!("{m}\n{PASS}\n"))));
    assert_eq!(added, json!({"name": "alice", "address": alice}));
    let text = std::fs::read_to_string(kdir.join("alice.json")).unwrap();
    assert!(!text.contains(&m) && !text.contains("mnemonic"), "{text}");
    for w in m.split_whitespace().filter(|w| !w.chars().all(|c| c.is_ascii_hexdigit())) {
        assert!(!text.contains(w), "word {w:?} in {text}");
    }
    assert!(!home.join("keyring").exists());

    // Listing and showing need no passphrase.
    assert_eq!(ok_json(aegisd(home, &["keys", "list"], file, None)), json!([{"name": "alice", "address": alice}]));
    assert_eq!(ok(aegisd(home, &["keys", "show", "alice"], file, None)).trim(), alice);

    // Exporting or signing needs it: none, or a wrong one, is refused.
    let no_pass = "the file keyring needs a passphrase: set AEGIS_KEYRING_PASSPHRASE, type it on a terminal, or give it as a line of standard input";
    let wrong = format!("wrong passphrase: it does not open key \"alice\" in {}", kdir.display());
    fails_with(aegisd(home, &["keys", "export", "alice"], file, None), no_pass);
    fails_with(aegisd(home, &["keys", "export", "alice"], file, Some("a wrong passphrase\n")), &wrong);
    fails_with(aegisd(home, &["keys", "export", "alice"], &[("AEGIS_KEYRING_BACKEND", "file"), ("AEGIS_KEYRING_PASSPHRASE", "nope nope")], None), &wrong);
    // A tx fails on the keyring before any network call (nothing listens at CLOSED_GRPC).
    let send = ["tx", "bank", "send", "--from", "alice", &alice, "1uaegis", "--grpc", CLOSED_GRPC];
    fails_with(aegisd(home, &send, file, None), no_pass);
    fails_with(aegisd(home, &send, file, Some("a wrong passphrase\n")), &wrong);
    // With the passphrase it gets as far as the network.
    let out = aegisd(home, &send, with_pass, None);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(&format!("Error: connecting to gRPC at {CLOSED_GRPC}")), "{out:?}");
    assert_eq!(ok(aegisd(home, &["keys", "export", "alice"], with_pass, None)).trim(), m);
    assert_eq!(ok(aegisd(home, &["keys", "export", "alice"], file, Some(&format!("{PASS}\n")))).trim(), m);

    // One address, one name; one passphrase per keyring.
    fails_with(
        aegisd(home, &["keys", "import", "alice2"], with_pass, Some(&format!("{m}\n"))),
        &format!("address {alice} is already in {} as key \"alice\"; nothing was stored", kdir.display()),
    );
    let m2 = mnemonic(22);
    fails_with(aegisd(home, &["keys", "import", "bob"], file, Some(&format!("{m2}\nanother passphrase\n"))), &wrong);
    assert_eq!(ok_json(aegisd(home, &["keys", "import", "bob"], with_pass, Some(&format!("{m2}\n")))), json!({"name": "bob", "address": address_of(&m2)}));
    let fresh = ok_json(aegisd(home, &["keys", "add", "carol"], with_pass, None));
    assert_eq!(fresh["address"], address_of(fresh["mnemonic"].as_str().unwrap()));

    // Rename, then delete: refused without -y when stdin is not a terminal.
    assert_eq!(ok_json(aegisd(home, &["keys", "rename", "alice", "dave"], file, None)), json!({"name": "dave", "address": alice, "previous_name": "alice"}));
    assert_eq!(ok(aegisd(home, &["keys", "export", "dave"], with_pass, None)).trim(), m);
    fails_with(
        aegisd(home, &["keys", "delete", "dave"], file, None),
        &format!("refusing to delete key \"dave\" ({alice}) without confirmation: standard input is not a terminal; pass -y"),
    );
    assert_eq!(ok_json(aegisd(home, &["keys", "delete", "dave", "-y"], file, None)), json!({"name": "dave", "address": alice, "deleted": true}));
    fails_with(aegisd(home, &["keys", "show", "dave"], file, None), &format!("key \"dave\" not found in {}", kdir.display()));
    let names: Vec<Value> = ok_json(aegisd(home, &["keys", "list"], file, None)).as_array().unwrap().iter().map(|k| k["name"].clone()).collect();
    assert_eq!(names, vec![json!("bob"), json!("carol")]);

    // client.toml picks the backend; the flag beats it.
    ok(aegisd(home, &["config", "set", "keyring-backend", "file"], &[], None));
    assert_eq!(ok_json(aegisd(home, &["keys", "list"], &[], None)).as_array().unwrap().len(), 2);
    assert_eq!(ok_json(aegisd(home, &["keys", "list", "--keyring-backend", "test"], &[], None)), json!([]));
    assert_eq!(ok_json(aegisd(home, &["keys", "list"], &[("AEGIS_KEYRING_BACKEND", "test")], None)), json!([]));
}

#[test]
fn the_test_keyring_refuses_an_address_twice_and_renames_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let m = mnemonic(23);
    let a = address_of(&m);
    assert_eq!(ok_json(aegisd(home, &["keys", "import", "alice"], &[], Some(&format!("{m}\n")))), json!({"name": "alice", "address": a}));
    fails_with(
        aegisd(home, &["keys", "add", "twin", "--recover"], &[], Some(&format!("{m}\n"))),
        &format!("address {a} is already in {} as key \"alice\"; nothing was stored", home.join("keyring").display()),
    );
    assert_eq!(ok_json(aegisd(home, &["keys", "rename", "alice", "bob"], &[], None)), json!({"name": "bob", "address": a, "previous_name": "alice"}));
    assert_eq!(ok(aegisd(home, &["keys", "export", "bob"], &[], None)).trim(), m);
    assert_eq!(ok_json(aegisd(home, &["keys", "delete", "bob", "--yes"], &[], None)), json!({"name": "bob", "address": a, "deleted": true}));
    assert_eq!(ok_json(aegisd(home, &["keys", "list"], &[], None)), json!([]));
}

#[test]
fn aegisd_config_prints_gets_and_sets_checked_values() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let defaults = ok(aegisd(home, &["config"], &[], None));
    assert!(defaults.contains("\ngrpc = \"http://127.0.0.1:26659\"\n") && defaults.contains("\nnode = \"tcp://127.0.0.1:26657\"\n"), "{defaults}");
    assert!(!home.join("config/client.toml").exists());
    ok(aegisd(home, &["config", "set", "chain-id", "my-chain"], &[], None));
    ok(aegisd(home, &["config", "set", "output", "text"], &[], None));
    assert_eq!(ok(aegisd(home, &["config", "get", "chain-id"], &[], None)), "my-chain\n");
    assert_eq!(ok(aegisd(home, &["config", "get", "output"], &[], None)), "text\n");
    assert_eq!(ok(aegisd(home, &["config", "get", "grpc"], &[], None)), "http://127.0.0.1:26659\n");
    let before = std::fs::read(home.join("config/client.toml")).unwrap();
    fails_with(aegisd(home, &["config", "set", "grpc", "127.0.0.1:9090"], &[], None), "grpc \"127.0.0.1:9090\" is not an endpoint: write http://host:port or https://host:port");
    fails_with(aegisd(home, &["config", "set", "keyring-backend", "os"], &[], None), "keyring backend \"os\" is not one of: test, file (aegisd has no os backend)");
    fails_with(aegisd(home, &["config", "get", "gprc"], &[], None), "unknown client.toml key \"gprc\": the keys are chain-id, node, grpc, keyring-backend, output");
    assert_eq!(std::fs::read(home.join("config/client.toml")).unwrap(), before);
    // `aegisd init` writes one naming its node's chain id and ports.
    let node = dir.path().join("node");
    ok(aegisd(&node, &["init", "--chain-id", "keys-chain", "--base-port", "30700"], &[], None));
    let written = std::fs::read_to_string(node.join("config/client.toml")).unwrap();
    for line in ["chain-id = \"keys-chain\"", "node = \"tcp://127.0.0.1:30757\"", "grpc = \"http://127.0.0.1:30759\"", "keyring-backend = \"test\"", "output = \"json\""] {
        assert!(written.contains(&format!("\n{line}\n")), "{line} not in {written}");
    }
    assert_eq!(ok(aegisd(&node, &["config", "get", "grpc"], &[], None)), "http://127.0.0.1:30759\n");
    // A broken client.toml stops every command, naming the file and the value.
    std::fs::write(home.join("config/client.toml"), "output = \"yaml\"\n").unwrap();
    fails_with(
        aegisd(home, &["keys", "list"], &[], None),
        &format!("{} (edit or remove it): output \"yaml\" is not one of: json, text", home.join("config/client.toml").display()),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_commands_use_the_homes_grpc_endpoint_and_flags_and_env_win() {
    let net = Devnet::start(1, 30600).await;
    let node0 = &net.nodes[0];
    let faucet = net.accounts.iter().find(|a| a.0 == "faucet").unwrap().clone();
    let balance = |out: Output| ok_json(out)["balances"].clone();
    let expected = json!([{"denom": "stuaegis", "amount": "100000000000000"}, {"denom": "uaegis", "amount": FAUCET_BALANCE.to_string()}, {"denom": "uqaegis", "amount": "100000000000000"}]);

    // The generated home's client.toml names its node: no --grpc needed.
    assert_eq!(ok(aegisd(&node0.home, &["config", "get", "grpc"], &[], None)).trim(), node0.grpc);
    assert_eq!(ok(aegisd(&node0.home, &["config", "get", "chain-id"], &[], None)).trim(), net.chain_id);
    assert_eq!(ok(aegisd(&node0.home, &["config", "get", "node"], &[], None)).trim(), node0.rpc.replace("http://", "tcp://"));
    assert_eq!(balance(aegisd(&node0.home, &["query", "bank", "balances", &faucet.1], &[], None)), expected);

    // A client home of its own, pointed at the node with `aegisd config set`.
    let client = tempfile::tempdir().unwrap();
    let home = client.path();
    ok(aegisd(home, &["config", "set", "grpc", &node0.grpc], &[], None));
    assert_eq!(balance(aegisd(home, &["query", "bank", "balances", &faucet.1], &[], None)), expected);
    // The environment beats client.toml; the flag beats both.
    let closed_env = &[("AEGIS_GRPC", CLOSED_GRPC)];
    let err = String::from_utf8_lossy(&aegisd(home, &["query", "bank", "balances", &faucet.1], closed_env, None).stderr).to_string();
    assert!(err.starts_with(&format!("Error: connecting to gRPC at {CLOSED_GRPC}")), "{err}");
    let flag = ["query", "bank", "balances", &faucet.1, "--grpc", &node0.grpc];
    assert_eq!(balance(aegisd(home, &flag, closed_env, None)), expected);
    // Pointed at a closed port, the query fails naming it.
    ok(aegisd(home, &["config", "set", "grpc", CLOSED_GRPC], &[], None));
    let out = aegisd(home, &["query", "bank", "balances", &faucet.1], &[], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.starts_with(&format!("Error: connecting to gRPC at {CLOSED_GRPC}")), "{err}");

    // A tx signed from a file keyring, to the node client.toml names.
    ok(aegisd(home, &["config", "set", "grpc", &node0.grpc], &[], None));
    ok(aegisd(home, &["config", "set", "keyring-backend", "file"], &[], None));
    ok(aegisd(home, &["keys", "import", "faucet"], &[], Some(&format!("{}\n{PASS}\n", faucet.2))));
    let to = address_of(&mnemonic(24));
    let r = ok_json(aegisd(home, &["tx", "bank", "send", "--from", "faucet", &to, "1234uaegis"], &[], Some(&format!("{PASS}\n"))));
    assert_eq!(r["code"], 0, "{r}");
    assert_eq!(balance(aegisd(home, &["query", "bank", "balances", &to], &[], None)), json!([{"denom": "uaegis", "amount": "1234"}]));
}
