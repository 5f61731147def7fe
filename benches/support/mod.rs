//! What the benchmarks share: a server (`DATABASE_URL`'s, else an embedded cluster in the
//! temp directory), a scratch database on it, and percentiles.
#![allow(dead_code)]

use std::time::Duration;

use sqlx::{Connection as _, PgConnection};
use tradedesk::store::embedded::Cluster;
use tradedesk::store::setup::setup;
use tradedesk::store::target::{Origin, Target};

/// The server's maintenance URL.
pub fn server_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            let cluster = Cluster::ephemeral(std::env::temp_dir().join(format!(
                "tradedesk-bench-pg-{}",
                nix::unistd::geteuid().as_raw()
            )));
            if let Err(e) = cluster.ensure_running() {
                eprintln!("cannot start the embedded cluster: {e}");
                std::process::exit(1);
            }
            cluster.url("postgres")
        }
    }
}

/// `url` naming another database on the same server.
pub fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("the server URL parses");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

/// A scratch database `name`, made anew and set up for tradedesk; dropped by [`drop_db`].
pub async fn scratch(name: &str) -> (PgConnection, String, Target) {
    let server = server_url();
    let mut admin = PgConnection::connect(&server)
        .await
        .expect("connect to the server");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop the old bench database");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create the bench database");
    let url = with_database(&server, name);
    let target = Target::from_url(&url, Origin::Env).expect("a URL");
    setup(&target, false).await.expect("setup");
    (admin, url, target)
}

pub async fn drop_db(admin: &mut PgConnection, name: &str) {
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(admin)
        .await
        .expect("drop the bench database");
}

/// The `p`th percentile (0–100) of sorted samples.
pub fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = (sorted.len() * p / 100).min(sorted.len() - 1);
    sorted[index]
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `p50 … p99 … max …` of the samples, in ms.
pub fn summary(samples: &mut [Duration]) -> String {
    samples.sort();
    format!(
        "p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>6.2} ms",
        ms(percentile(samples, 50)),
        ms(percentile(samples, 99)),
        ms(samples.last().copied().unwrap_or_default())
    )
}
