//! aegisd: the Aegis node (`start`) and its command-line client.

mod cli;

use clap::Parser;

fn main() {
    apply_client_config();
    let cli = cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("AEGIS_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).with_writer(std::io::stderr).init();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Err(e) = rt.block_on(cli::run(cli)) {
        match e.downcast_ref::<tonic::Status>() {
            // A query the node refused: its code and message, not the metadata.
            Some(s) => eprintln!("Error: {:?}: {}", s.code(), s.message()),
            None => eprintln!("Error: {e:#}"),
        }
        std::process::exit(1);
    }
}

/// Before clap parses: the home's `config/client.toml` (home from `--home`,
/// else AEGIS_HOME, else ~/.aegis) fills in the AEGIS_* variables not
/// already set, so a value comes from its flag, else the environment, else
/// client.toml, else the built-in default.
fn apply_client_config() {
    use aegis_node::client_config::{home_from_args, ClientConfig};
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let home = home_from_args(&args, std::env::var_os("AEGIS_HOME"));
    match ClientConfig::load(&home) {
        Ok(Some(c)) => {
            for (var, value) in c.env_defaults(|var| std::env::var_os(var).is_some()) {
                std::env::set_var(var, value);
            }
        }
        Ok(None) => {}
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::exit(1);
        }
    }
}
