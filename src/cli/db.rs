//! `tradedesk db status|start|stop`: the embedded cluster.

use super::output::Out;
use super::{DbCommand, Failure};
use crate::store::Target;
use crate::store::embedded::Cluster;
use crate::store::target::DEFAULT_DATABASE;

pub async fn run(target: &Target, out: Out, command: DbCommand) -> Result<(), Failure> {
    let cluster = match target.cluster() {
        Some(cluster) => cluster.clone(),
        None => {
            let root = super::embedded_root()?;
            if !out.json {
                println!(
                    "tradedesk is configured to use {}, not the embedded cluster below.",
                    target.describe()
                );
            }
            Cluster::new(root)
        }
    };
    match command {
        DbCommand::Status => status(cluster, out).await,
        DbCommand::Start => start(cluster, out).await,
        DbCommand::Stop => stop(cluster, out).await,
    }
}

async fn status(cluster: Cluster, out: Out) -> Result<(), Failure> {
    let blocking = cluster.clone();
    let status = tokio::task::spawn_blocking(move || blocking.status()).await??;
    if out.json {
        let mut value = serde_json::to_value(&status)?;
        value["url"] = cluster.url(DEFAULT_DATABASE).into();
        value["log"] = cluster.log_file().display().to_string().into();
        return out.json(&value);
    }
    println!("Embedded PostgreSQL in {}", status.root.display());
    match (status.initialized, status.pid) {
        (false, _) => {
            println!("  not created yet: `tradedesk setup` (or `tradedesk db start`) creates it")
        }
        (true, None) => println!(
            "  PostgreSQL {}: stopped (it starts when tradedesk needs it)",
            status.major.unwrap_or_default()
        ),
        (true, Some(pid)) => {
            println!(
                "  PostgreSQL {}: running, PID {pid}, socket in {}",
                status.major.unwrap_or_default(),
                status.socket_dir.display()
            );
            println!("  psql \"{}\"", cluster.url(DEFAULT_DATABASE));
        }
    }
    println!("  log: {}", cluster.log_file().display());
    Ok(())
}

async fn start(cluster: Cluster, out: Out) -> Result<(), Failure> {
    let blocking = cluster.clone();
    let ensured = tokio::task::spawn_blocking(move || blocking.ensure_running()).await??;
    if out.json {
        return out.json(&ensured);
    }
    let what = match (ensured.initialized, ensured.started) {
        (true, _) => "created and started",
        (false, true) => "started",
        (false, false) => "already running",
    };
    println!(
        "Embedded PostgreSQL in {}: {what}",
        cluster.root().display()
    );
    Ok(())
}

async fn stop(cluster: Cluster, out: Out) -> Result<(), Failure> {
    let blocking = cluster.clone();
    let stopped = tokio::task::spawn_blocking(move || blocking.stop()).await??;
    if out.json {
        return out.json(&serde_json::json!({ "stopped": stopped }));
    }
    println!(
        "Embedded PostgreSQL in {}: {}",
        cluster.root().display(),
        if stopped {
            "stopped"
        } else {
            "was not running"
        }
    );
    Ok(())
}
