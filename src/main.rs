use clap::Parser as _;
use tradedesk::cli::{Cli, run};

fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    if let Err(err) = runtime.block_on(run(cli)) {
        eprintln!("tradedesk: {err}");
        std::process::exit(1);
    }
    Ok(())
}
