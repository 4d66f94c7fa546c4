//! `<home>/config/client.toml`: a home's defaults for client commands, like
//! the Cosmos SDK's. Before the command line is parsed, the keys present
//! fill in the matching `AEGIS_*` environment variables that are not
//! already set, so a value comes from, in order: its flag, its environment
//! variable, client.toml, the built-in default.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, ensure, Context, Result};

use crate::keys::Backend;

/// One client.toml key: its name, the environment variable it fills in,
/// its built-in default and what it is.
pub struct Key {
    pub name: &'static str,
    pub env: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

pub const KEYS: [Key; 5] = [
    Key { name: "chain-id", env: "AEGIS_CHAIN_ID", default: "", help: "Chain id of the network (empty: each command's own default)" },
    Key { name: "node", env: "AEGIS_NODE", default: "tcp://127.0.0.1:26657", help: "CometBFT RPC endpoint of a node" },
    Key { name: "grpc", env: "AEGIS_GRPC", default: "http://127.0.0.1:26659", help: "gRPC endpoint of a node (aegisd's own server)" },
    Key { name: "keyring-backend", env: "AEGIS_KEYRING_BACKEND", default: "test", help: "Keyring backend: test (plain files) or file (encrypted with a passphrase)" },
    Key { name: "output", env: "AEGIS_OUTPUT", default: "json", help: "Output format of client commands: json or text" },
];

/// `name`'s position in [`KEYS`].
fn key(name: &str) -> Result<usize> {
    KEYS.iter().position(|k| k.name == name).ok_or_else(|| {
        let names: Vec<_> = KEYS.iter().map(|k| k.name).collect();
        anyhow!("unknown client.toml key {name:?}: the keys are {}", names.join(", "))
    })
}

/// `scheme://host:port` with a scheme of `schemes`.
fn check_endpoint(name: &str, value: &str, schemes: &[&str]) -> Result<()> {
    let example = schemes.iter().map(|s| format!("{s}://host:port")).collect::<Vec<_>>().join(" or ");
    let bad = || anyhow!("{name} {value:?} is not an endpoint: write {example}");
    let (scheme, rest) = value.split_once("://").ok_or_else(bad)?;
    ensure!(schemes.contains(&scheme), "{name} {value:?} has scheme {scheme:?}: write {example}");
    let (host, port) = rest.strip_suffix('/').unwrap_or(rest).rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || host.contains(['/', ' ']) || !matches!(port.parse::<u16>(), Ok(p) if p > 0) {
        return Err(bad());
    }
    Ok(())
}

/// Checks `value` for client.toml key `name`; the error names both.
pub fn validate(name: &str, value: &str) -> Result<()> {
    key(name)?;
    match name {
        "chain-id" if value.is_empty() => Ok(()),
        "chain-id" => tendermint::chain::Id::try_from(value.to_string()).map(|_| ()).map_err(|e| anyhow!("chain-id {value:?} is not a chain id: {e}")),
        "node" => check_endpoint(name, value, &["tcp", "http", "https"]),
        "grpc" => check_endpoint(name, value, &["http", "https"]),
        "keyring-backend" => Backend::parse(value).map(|_| ()),
        "output" => match value {
            "json" | "text" => Ok(()),
            _ => bail!("output {value:?} is not one of: json, text"),
        },
        _ => unreachable!("every key is matched"),
    }
}

/// The keys a client.toml sets; the others take their defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientConfig {
    /// By position in [`KEYS`].
    values: [Option<String>; KEYS.len()],
}

impl ClientConfig {
    pub fn path(home: &Path) -> PathBuf {
        home.join("config").join("client.toml")
    }

    /// What `aegisd init` and `aegisd testnet` write for a node: its chain
    /// id and its own RPC and gRPC ports.
    pub fn for_node(chain_id: &str, rpc_port: u16, grpc_port: u16) -> Result<Self> {
        let mut c = ClientConfig::default();
        c.set("chain-id", chain_id)?;
        c.set("node", &format!("tcp://127.0.0.1:{rpc_port}"))?;
        c.set("grpc", &format!("http://127.0.0.1:{grpc_port}"))?;
        c.set("keyring-backend", "test")?;
        c.set("output", "json")?;
        Ok(c)
    }

    /// Parses client.toml text: every key known, every value a valid string.
    pub fn parse(text: &str) -> Result<Self> {
        let table: toml::Table = toml::from_str(text)?;
        let mut c = ClientConfig::default();
        for (name, value) in table {
            let default = KEYS[key(&name)?].default;
            let value = value.as_str().with_context(|| format!("{name} is {value}: write it as a string, e.g. {name} = \"{default}\""))?;
            c.set(&name, value)?;
        }
        Ok(c)
    }

    /// `home`'s client.toml, or `None` when it has none.
    pub fn load(home: &Path) -> Result<Option<Self>> {
        let path = Self::path(home);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text).map(Some).with_context(|| format!("{} (edit or remove it)", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save(&self, home: &Path) -> Result<()> {
        let path = Self::path(home);
        std::fs::create_dir_all(path.parent().expect("config/")).with_context(|| format!("creating {}", home.join("config").display()))?;
        std::fs::write(&path, self.to_toml()).with_context(|| format!("writing {}", path.display()))
    }

    /// Value of `name` set here, if any.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values[key(name).ok()?].as_deref()
    }

    /// Value of `name`: set here, else its default.
    pub fn get(&self, name: &str) -> Result<&str> {
        Ok(self.value(name).unwrap_or(KEYS[key(name)?].default))
    }

    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        validate(name, value)?;
        self.values[key(name)?] = Some(value.to_string());
        Ok(())
    }

    /// Every key with its value (defaults filled in), commented.
    pub fn to_toml(&self) -> String {
        let mut out = String::from("# aegisd client configuration: defaults for client commands run with this home.\n# A flag or an AEGIS_* environment variable overrides a value here.\n");
        for k in &KEYS {
            let value = self.value(k.name).unwrap_or(k.default);
            out += &format!("\n# {} ({})\n{} = {}\n", k.help, k.env, k.name, toml::Value::String(value.into()));
        }
        out
    }

    /// (variable, value) to set before parsing: each key set here with a
    /// non-empty value whose variable `is_set` says is not set yet.
    pub fn env_defaults(&self, is_set: impl Fn(&str) -> bool) -> Vec<(&'static str, String)> {
        KEYS.iter()
            .filter_map(|k| self.value(k.name).filter(|v| !v.is_empty()).map(|v| (k.env, v.to_string())))
            .filter(|(env, _)| !is_set(env))
            .collect()
    }
}

/// The home a command line names before clap parses it: `--home X` or
/// `--home=X` (up to a bare `--`), else `env_home`, else `~/.aegis`.
pub fn home_from_args(args: &[OsString], env_home: Option<OsString>) -> PathBuf {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == "--home" {
            if let Some(v) = it.next() {
                return crate::config::expand_home(Path::new(v));
            }
        } else if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--home=")) {
            return crate::config::expand_home(Path::new(v));
        }
    }
    let home = env_home.filter(|h| !h.is_empty()).unwrap_or_else(|| "~/.aegis".into());
    crate::config::expand_home(Path::new(&home))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_node_config_names_its_chain_and_ports() {
        let c = ClientConfig::for_node("aegis-devnet", 26667, 26669).unwrap();
        assert_eq!(
            c.to_toml(),
            "# aegisd client configuration: defaults for client commands run with this home.\n\
             # A flag or an AEGIS_* environment variable overrides a value here.\n\
             \n# Chain id of the network (empty: each command's own default) (AEGIS_CHAIN_ID)\nchain-id = \"aegis-devnet\"\n\
             \n# CometBFT RPC endpoint of a node (AEGIS_NODE)\nnode = \"tcp://127.0.0.1:26667\"\n\
             \n# gRPC endpoint of a node (aegisd's own server) (AEGIS_GRPC)\ngrpc = \"http://127.0.0.1:26669\"\n\
             \n# Keyring backend: test (plain files) or file (encrypted with a passphrase) (AEGIS_KEYRING_BACKEND)\nkeyring-backend = \"test\"\n\
             \n# Output format of client commands: json or text (AEGIS_OUTPUT)\noutput = \"json\"\n"
        );
        assert_eq!(ClientConfig::parse(&c.to_toml()).unwrap(), c);
    }

    #[test]
    fn keys_not_set_take_the_defaults_of_aegisd_init() {
        let c = ClientConfig::parse("grpc = \"http://10.0.0.1:9090\"\n").unwrap();
        assert_eq!(c.get("grpc").unwrap(), "http://10.0.0.1:9090");
        assert_eq!(c.get("node").unwrap(), "tcp://127.0.0.1:26657");
        assert_eq!(c.get("chain-id").unwrap(), "");
        assert_eq!(c.get("keyring-backend").unwrap(), "test");
        assert_eq!(c.get("output").unwrap(), "json");
        assert_eq!(c.value("node"), None);
        // The built-in defaults are what `aegisd init` (base port 26600) listens on.
        let init = ClientConfig::for_node("x", 26657, 26659).unwrap();
        for k in &KEYS[1..] {
            assert_eq!(init.get(k.name).unwrap(), k.default, "{}", k.name);
        }
        assert_eq!(format!("http://{}", crate::config::AppConfig::default().grpc_listen), KEYS[2].default);
        assert_eq!(crate::config::AppConfig::default().cometbft_rpc.replace("http://", "tcp://"), KEYS[1].default);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_naming_them() {
        for (text, err) in [
            ("grcp = \"http://127.0.0.1:1\"", "unknown client.toml key \"grcp\": the keys are chain-id, node, grpc, keyring-backend, output"),
            ("grpc = 9090", "grpc is 9090: write it as a string, e.g. grpc = \"http://127.0.0.1:26659\""),
            ("grpc = \"127.0.0.1:9090\"", "grpc \"127.0.0.1:9090\" is not an endpoint: write http://host:port or https://host:port"),
            ("grpc = \"tcp://127.0.0.1:9090\"", "grpc \"tcp://127.0.0.1:9090\" has scheme \"tcp\": write http://host:port or https://host:port"),
            ("grpc = \"http://127.0.0.1:0\"", "grpc \"http://127.0.0.1:0\" is not an endpoint: write http://host:port or https://host:port"),
            ("grpc = \"http://127.0.0.1:70000\"", "grpc \"http://127.0.0.1:70000\" is not an endpoint: write http://host:port or https://host:port"),
            ("node = \"ws://127.0.0.1:26657\"", "node \"ws://127.0.0.1:26657\" has scheme \"ws\": write tcp://host:port or http://host:port or https://host:port"),
            ("keyring-backend = \"os\"", "keyring backend \"os\" is not one of: test, file (aegisd has no os backend)"),
            ("output = \"yaml\"", "output \"yaml\" is not one of: json, text"),
            ("chain-id = \"has space\"", "chain-id \"has space\" is not a chain id"),
        ] {
            let got = format!("{:#}", ClientConfig::parse(text).unwrap_err());
            assert!(got.starts_with(err), "{text}: {got}");
        }
        for ok in ["node = \"http://localhost:26657/\"", "grpc = \"https://grpc.example.org:443\"", "chain-id = \"\"", "output = \"text\""] {
            ClientConfig::parse(ok).unwrap();
        }
        let mut c = ClientConfig::default();
        assert_eq!(c.set("gprc", "x").unwrap_err().to_string(), "unknown client.toml key \"gprc\": the keys are chain-id, node, grpc, keyring-backend, output");
        assert!(c.set("output", "xml").is_err());
        assert_eq!(c, ClientConfig::default());
    }

    #[test]
    fn environment_already_set_wins_over_client_toml() {
        let c = ClientConfig::parse("grpc = \"http://127.0.0.1:30669\"\nnode = \"tcp://127.0.0.1:30667\"\nchain-id = \"\"\noutput = \"text\"\n").unwrap();
        let set = |env: &str| env == "AEGIS_NODE";
        // node is already in the environment (or a flag will say): untouched;
        // an empty chain-id sets nothing; keys absent set nothing.
        assert_eq!(c.env_defaults(set), vec![("AEGIS_GRPC", "http://127.0.0.1:30669".to_string()), ("AEGIS_OUTPUT", "text".to_string())]);
    }

    #[test]
    fn the_home_is_found_before_parsing() {
        let home = std::env::var("HOME").unwrap();
        assert_eq!(home_from_args(&os(&["query", "--home", "/a/b", "bank"]), Some("/env".into())), PathBuf::from("/a/b"));
        assert_eq!(home_from_args(&os(&["--home=/c", "status"]), Some("/env".into())), PathBuf::from("/c"));
        assert_eq!(home_from_args(&os(&["keys", "list", "--home", "~/x"]), None), PathBuf::from(&home).join("x"));
        assert_eq!(home_from_args(&os(&["status"]), Some("/env".into())), PathBuf::from("/env"));
        assert_eq!(home_from_args(&os(&["status"]), Some("".into())), PathBuf::from(&home).join(".aegis"));
        assert_eq!(home_from_args(&os(&["status"]), None), PathBuf::from(&home).join(".aegis"));
        assert_eq!(home_from_args(&os(&["x", "--", "--home", "/no"]), None), PathBuf::from(&home).join(".aegis"));
    }

    #[test]
    fn save_and_load_round_trip_and_a_missing_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ClientConfig::load(dir.path()).unwrap(), None);
        let mut c = ClientConfig::default();
        c.set("grpc", "http://127.0.0.1:30669").unwrap();
        c.save(dir.path()).unwrap();
        let loaded = ClientConfig::load(dir.path()).unwrap().unwrap();
        // Saving writes every key, defaults included.
        assert_eq!(loaded.get("grpc").unwrap(), "http://127.0.0.1:30669");
        assert_eq!(loaded.value("node"), Some("tcp://127.0.0.1:26657"));
        std::fs::write(ClientConfig::path(dir.path()), "output = \"yaml\"\n").unwrap();
        let err = format!("{:#}", ClientConfig::load(dir.path()).unwrap_err());
        assert_eq!(err, format!("{} (edit or remove it): output \"yaml\" is not one of: json, text", ClientConfig::path(dir.path()).display()));
    }
}
