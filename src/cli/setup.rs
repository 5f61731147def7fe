//! `tradedesk setup`.

use super::Failure;
use super::output::{Align, Out, Table};
use crate::store::Target;
use crate::store::migrate::Moved;
use crate::store::setup::{SetupReport, setup};

pub async fn run(target: &Target, out: Out, create_db: bool) -> Result<(), Failure> {
    let report = setup(target, create_db).await?;
    if out.json {
        return out.json(&report);
    }
    print!("{}", render(&report));
    Ok(())
}

/// The report as printed: what was done, then every table with its row count.
pub fn render(report: &SetupReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Database {} at {}\n",
        report.database, report.target
    ));
    if let Some(e) = report.prepared.embedded {
        out.push_str(match (e.initialized, e.started) {
            (true, _) => "  embedded PostgreSQL: created and started (it keeps running; `tradedesk db stop` stops it)\n",
            (false, true) => "  embedded PostgreSQL: started (it keeps running; `tradedesk db stop` stops it)\n",
            (false, false) => "  embedded PostgreSQL: already running\n",
        });
    }
    if report.prepared.database_created {
        out.push_str("  database: created\n");
    }
    if !report.prepared.migrations.moved.is_empty() {
        out.push_str(&format!(
            "  schema tradedesk: moved tradedesk's own objects out of public, every row kept: {}\n",
            moved_list(&report.prepared.migrations.moved)
        ));
    }
    match &report.prepared.migrations.adopted {
        Some(Some(rev)) => out.push_str(&format!(
            "  schema: adopted the platform's Phase-1 database (Alembic revision {rev}); its rows are untouched\n"
        )),
        Some(None) => out.push_str(
            "  schema: adopted the platform's Phase-1 tables; their rows are untouched\n",
        ),
        None => {}
    }
    if report.prepared.migrations.applied.is_empty() {
        out.push_str("  migrations: up to date\n");
    } else {
        for (version, description) in &report.prepared.migrations.applied {
            out.push_str(&format!("  migration {version} applied: {description}\n"));
        }
    }
    out.push_str(if report.prepared.risk_config_written {
        "  risk_config: default limits written (AI trading off, min confidence 90.0, max lot 1.00, 3 concurrent trades, daily target 2000.00, drawdown 1000.00)\n"
    } else {
        "  risk_config: present, left as it is\n"
    });
    for c in &report.prepared.strategies_converted {
        out.push_str(&format!(
            "  strategy \"{}\" ({}): converted to the platform's documents\n",
            c.name,
            crate::format::short(c.id)
        ));
        for change in &c.changes {
            out.push_str(&format!("      {change}\n"));
        }
    }
    let mut table = Table::new(&[("TABLE", Align::Left), ("ROWS", Align::Right)]);
    for (name, rows) in &report.tables {
        table.row([name.clone(), rows.to_string()]);
    }
    out.push('\n');
    out.push_str(&table.render("  "));
    out.push_str(if report.changed() {
        "\nReady.\n"
    } else {
        "\nReady; nothing needed changing.\n"
    });
    out
}

/// `table executions (2 rows), type executionstate, …`
pub fn moved_list(moved: &[Moved]) -> String {
    moved
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
