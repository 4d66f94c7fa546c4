//! aegisd: the Aegis node (`start`) and its command-line client.

mod cli;

use clap::Parser;

/// Rust ignores SIGPIPE, so `aegisd query ... | head` would panic in
/// `println!` once `head` exits. Client commands take the Unix default
/// instead: the process ends quietly (status 141), like any shell tool.
/// Servers keep ignoring it: a closed log pipe must not stop a node.
/// (Sockets are unaffected either way: Rust writes them with MSG_NOSIGNAL.)
fn quiet_broken_pipe(default: bool) {
    let action = if default { libc::SIG_DFL } else { libc::SIG_IGN };
    // SAFETY: sets the disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, action);
    }
}

fn main() {
    apply_client_config();
    // Before parsing, so that `--help | head` ends quietly too.
    quiet_broken_pipe(true);
    let cli = cli::Cli::parse();
    if cli.is_server() {
        quiet_broken_pipe(false);
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("AEGIS_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).with_writer(std::io::stderr).init();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Err(e) = rt.block_on(cli::run(cli)) {
        // Raw numbers in the message get their meaning next to them (dates of
        // Unix times, decimals of WAD fractions); codes stay as they are.
        let explain = aegis_node::render::text::annotate_message;
        match e.downcast_ref::<tonic::Status>() {
            // A query the node refused: its code and message, not the metadata.
            Some(s) => eprintln!("Error: {:?}: {}", s.code(), explain(s.message())),
            None => eprintln!("Error: {}", explain(&format!("{e:#}"))),
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
