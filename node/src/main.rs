//! aegisd: the Aegis node (`start`) and its command-line client.

mod cli;

use clap::Parser;

fn main() {
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
