//! `tradedesk migrate status|up|down N`.

use super::output::{Align, Out, Table};
use super::{Failure, MigrateCommand};
use crate::store::connect::connect;
use crate::store::{Target, migrate};

pub async fn run(target: &Target, out: Out, command: MigrateCommand) -> Result<(), Failure> {
    let pool = connect(target, 2).await?;
    if out.json {
        let value = match command {
            MigrateCommand::Status => serde_json::to_value(migrate::status(&pool).await?)?,
            MigrateCommand::Up => serde_json::to_value(migrate::up(&pool).await?)?,
            MigrateCommand::Down { steps } => {
                serde_json::json!({ "reverted": migrate::down(&pool, steps).await? })
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
            let report = migrate::up(&pool).await?;
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
        MigrateCommand::Down { steps } => {
            for (version, description) in migrate::down(&pool, steps).await? {
                println!("Reverted migration {version}: {description}");
            }
        }
    }
    pool.close().await;
    Ok(())
}
