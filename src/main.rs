use clap::Parser as _;
use tradedesk::cli::{Cli, run};
use tradedesk::domain::text;

fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    // Like any Unix filter: when the reader of our output goes away (`tradedesk … | head`),
    // end quietly instead of panicking on the failed write.
    // SAFETY: called before any other thread exists; SIG_DFL installs no Rust handler.
    unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        )?;
    }
    let cli = Cli::parse();
    let json = cli.json;
    let runtime = tokio::runtime::Runtime::new()?;
    if let Err(failure) = runtime.block_on(run(cli)) {
        // A message may quote what was typed or stored: nothing hidden reaches the terminal.
        if json {
            let error = serde_json::json!({
                "error": {"code": failure.code.as_str(), "message": failure.message}
            });
            println!("{}", text::json(&error.to_string()));
        } else {
            eprintln!("tradedesk: {}", text::lines(&failure.message, ""));
        }
        std::process::exit(failure.code.exit_status());
    }
    Ok(())
}
