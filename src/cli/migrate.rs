//! `tradedesk migrate status|up|down N`.

use sqlx::PgPool;

use super::output::{Align, Out, Table};
use super::{Failure, MigrateCommand};
use crate::operator::Operator;
use crate::store::changes::{self, Maintenance};
use crate::store::connect::connect;
use crate::store::migrate::UpReport;
use crate::store::{ErrorCode, Target, migrate};

pub async fn run(target: &Target, out: Out, command: MigrateCommand) -> Result<(), Failure> {
    let by = match command {
        MigrateCommand::Status => None,
        MigrateCommand::Up => Some(super::login::admin(target, "migrate up").await?),
        MigrateCommand::Down { .. } => Some(super::login::admin(target, "migrate down").await?),
    };
    let pool = connect(target, 2).await?;
    if out.json {
        let value = match command {
            MigrateCommand::Status => serde_json::to_value(migrate::status(&pool).await?)?,
            MigrateCommand::Up => serde_json::to_value(up(&pool, by.as_ref()).await?)?,
            MigrateCommand::Down { steps, drops } => {
                serde_json::json!({ "reverted": down(&pool, by.as_ref(), steps, &drops).await? })
            }
        };
        pool.close().await;
        return out.json(&value);
    }
    match command {
        MigrateCommand::Status => {
            println!("Database {} at {}", target.database(), target.describe());
            let mut table = Table::new(&[
                ("VERSION", Align::Right),
                ("MIGRATION", Align::Left),
                ("STATE", Align::Left),
            ]);
            for m in migrate::status(&pool).await? {
                let state = match m.applied_on {
                    Some(at) => format!("applied {}", at.format("%Y-%m-%d %H:%M:%S UTC")),
                    None => "pending".to_string(),
                };
                let note = if m.version == migrate::PHASE1_VERSION {
                    "  (the platform's schema; never reverted)"
                } else {
                    ""
                };
                table.row([
                    m.version.to_string(),
                    m.description,
                    format!("{state}{note}"),
                ]);
            }
            print!("{}", table.render("  "));
        }
        MigrateCommand::Up => {
            let report = up(&pool, by.as_ref()).await?;
            if !report.moved.is_empty() {
                println!(
                    "Moved tradedesk's own objects out of public to schema tradedesk, every row kept: {}.",
                    super::setup::moved_list(&report.moved)
                );
            }
            if let Some(rev) = &report.adopted {
                let rev = rev
                    .as_deref()
                    .map(|r| format!(" (Alembic revision {r})"))
                    .unwrap_or_default();
                println!("Adopted the platform's Phase-1 schema{rev}; its rows are untouched.");
            }
            if report.applied.is_empty() {
                println!("Schema up to date.");
            }
            for (version, description) in &report.applied {
                println!("Applied migration {version}: {description}");
            }
            print!(
                "{}",
                super::setup::several_decisions(&report.several_human_decisions, "")
            );
        }
        MigrateCommand::Down { steps, drops } => {
            for (version, description) in down(&pool, by.as_ref(), steps, &drops).await? {
                println!("Reverted migration {version}: {description}");
            }
        }
    }
    pool.close().await;
    Ok(())
}

/// Applies the pending migrations and records what was applied, by whom, in the audit.
async fn up(pool: &PgPool, by: Option<&Operator>) -> Result<UpReport, Failure> {
    let report = migrate::up(pool).await?;
    if let (Some(by), false) = (by, report.applied.is_empty()) {
        let versions: Vec<i64> = report.applied.iter().map(|(v, _)| *v).collect();
        changes::record(
            pool,
            by,
            Maintenance::Schema,
            &format!("migrate up: applied {}", listed(&versions)),
            serde_json::json!({ "applied": versions }),
        )
        .await?;
    }
    Ok(report)
}

/// Reverts the newest `steps` migrations, once what they drop is acknowledged; recorded in
/// the audit before it is reverted (the revert may remove the audit itself).
async fn down(
    pool: &PgPool,
    by: Option<&Operator>,
    steps: usize,
    acknowledged: &[String],
) -> Result<Vec<(i64, String)>, Failure> {
    let versions = migrate::reverting(pool, steps).await?;
    let dropped = migrate::drops(&versions);
    let unacknowledged: Vec<_> = dropped
        .iter()
        .filter(|d| !acknowledged.iter().any(|a| a.trim() == d.word))
        .collect();
    if !unacknowledged.is_empty() {
        let named: Vec<String> = unacknowledged
            .iter()
            .map(|d| format!("{} (migration {})", d.what, d.migration))
            .collect();
        let words: Vec<&str> = dropped.iter().map(|d| d.word).collect();
        return Err(Failure::new(
            ErrorCode::InvalidInput,
            format!(
                "reverting {steps} migration{} would drop {}; nothing was reverted: if that is \
                 what you want, run it again with --i-understand-this-drops {}",
                if steps == 1 { "" } else { "s" },
                named.join(", "),
                words.join(",")
            ),
        ));
    }
    if let Some(by) = by {
        changes::record(
            pool,
            by,
            Maintenance::Schema,
            &format!("migrate down {steps}: reverting {}", listed(&versions)),
            serde_json::json!({
                "reverting": versions,
                "drops": dropped.iter().map(|d| d.word).collect::<Vec<_>>(),
            }),
        )
        .await?;
    }
    Ok(migrate::down(pool, steps).await?)
}

/// `migration 14`, `migrations 13, 14`.
pub(super) fn listed(versions: &[i64]) -> String {
    match versions {
        [one] => format!("migration {one}"),
        _ => format!(
            "migrations {}",
            versions
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
