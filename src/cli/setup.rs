//! `tradedesk setup`.

use super::Failure;
use super::output::{Align, Out, Table};
use crate::store::Target;
use crate::store::db_roles::{ADMIN, DatabaseRoles, OPERATOR, VIEWER};
use crate::store::migrate::{Moved, SeveralDecisions};
use crate::store::setup::{SetupReport, setup};

/// `by`: who sets it up (an admin, on a database with platform users), recorded in the
/// audit when the set-up changed anything.
pub async fn run(
    target: &Target,
    out: Out,
    create_db: bool,
    roles: bool,
    by: &crate::operator::Operator,
) -> Result<(), Failure> {
    let report = setup(target, create_db).await?;
    let store = super::open(target).await?;
    let roles = if roles {
        Some(store.create_database_roles().await?)
    } else {
        None
    };
    let roles_created = roles.as_ref().is_some_and(|r| !r.created.is_empty());
    if report.changed() || roles_created {
        let applied: Vec<i64> = report
            .prepared
            .migrations
            .applied
            .iter()
            .map(|(v, _)| *v)
            .collect();
        let p = &report.prepared;
        let mut done = Vec::new();
        if p.database_created {
            done.push("created the database".to_string());
        }
        if p.migrations.adopted.is_some() {
            done.push("adopted the platform's Phase-1 schema".to_string());
        }
        if !p.migrations.moved.is_empty() {
            done.push("moved tradedesk's objects to schema tradedesk".to_string());
        }
        if !applied.is_empty() {
            done.push(format!("applied {}", super::migrate::listed(&applied)));
        }
        if p.risk_config_written {
            done.push("wrote the first-start limits".to_string());
        }
        if !p.strategies_converted.is_empty() {
            done.push(format!(
                "converted {} strategies to the platform's documents",
                p.strategies_converted.len()
            ));
        }
        if let Some(r) = roles.as_ref().filter(|r| !r.created.is_empty()) {
            done.push(format!("created PostgreSQL roles {}", r.created.join(", ")));
        }
        if done.is_empty() {
            done.push("started the embedded database".to_string());
        }
        crate::store::changes::record(
            store.pool(),
            by,
            crate::store::changes::Maintenance::Setup,
            &format!("setup: {}", done.join("; ")),
            serde_json::json!({
                "migrations_applied": applied,
                "risk_config_written": report.prepared.risk_config_written,
                "database_roles_created": roles.as_ref().map(|r| &r.created),
            }),
        )
        .await?;
    }
    if out.json {
        return match roles {
            None => out.json(&report),
            Some(roles) => {
                out.json(&serde_json::json!({ "setup": report, "database_roles": roles }))
            }
        };
    }
    print!("{}", render(&report));
    if let Some(roles) = roles {
        print!("{}", render_roles(&roles, &report.database));
    }
    Ok(())
}

/// What `--roles` made, and how to use the roles.
fn render_roles(roles: &DatabaseRoles, database: &str) -> String {
    let created = if roles.created.is_empty() {
        "all three existed; their privileges on this database are granted".to_string()
    } else {
        format!("created {}", roles.created.join(", "))
    };
    format!(
        "PostgreSQL roles ({created}):\n\
         \x20 {VIEWER}    reads and LISTEN, logs in: the console opens read-only\n\
         \x20 {OPERATOR}  also what tradedesk's acts need, nothing else\n\
         \x20 {ADMIN}     also grants desk roles and sees logins and lock-outs\n\
         \x20 None owns a table, so none can disable a trigger or rewrite the audit; logins,\n\
         \x20 sessions and roles are the database's own functions (see README, Logins and roles).\n\
         \x20 To use one, give it a password (or make people members of it), e.g. in psql:\n\
         \x20   ALTER ROLE {OPERATOR} PASSWORD '…';\n\
         \x20   CREATE ROLE ann LOGIN PASSWORD '…' IN ROLE {OPERATOR};\n\
         \x20 then connect as it: --database-url postgres://ann:…@host/{database}\n"
    )
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
    out.push_str(&several_decisions(
        &report.prepared.migrations.several_human_decisions,
        "  ",
    ));
    out.push_str(if report.prepared.risk_config_written {
        "  risk_config: default limits written (AI trading off, min confidence 90.0, max lot 1.00, 3 concurrent trades, daily target 2000.00, drawdown 1000.00)\n"
    } else {
        "  risk_config: present, left as it is\n"
    });
    let converted =
        crate::format::ShortIds::new(report.prepared.strategies_converted.iter().map(|c| c.id));
    for c in &report.prepared.strategies_converted {
        out.push_str(&format!(
            "  strategy \"{}\" ({}): converted to the platform's documents\n",
            crate::domain::text::line(&c.name),
            converted.of(c.id)
        ));
        for change in &c.changes {
            out.push_str(&format!("      {}\n", crate::domain::text::line(change)));
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

/// The ideas with more than one human decision (written before one decision per idea
/// held whoever wrote it), each with its decisions, oldest first, one line each:
///
/// ```text
///   idea 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f: 2 human decisions; the first stands, the
///   later ones are kept in the history outside the one-decision rule:
///       human_approved by the platform at 2025-10-28 14:05:00 UTC (b2c3d4e5, counted)
///       human_rejected by ann@desk at 2025-10-28 14:06:00 UTC (c3d4e5f6, left out)
/// ```
pub fn several_decisions(ideas: &[SeveralDecisions], indent: &str) -> String {
    let mut out = String::new();
    let shown = crate::format::ShortIds::new(
        ideas
            .iter()
            .flat_map(|idea| idea.decisions.iter().map(|d| d.id)),
    );
    for idea in ideas {
        out.push_str(&format!(
            "{indent}idea {}: {} human decisions; the first stands, the later ones are kept in \
             the history outside the one-decision rule:\n",
            idea.idea,
            idea.decisions.len()
        ));
        for d in &idea.decisions {
            out.push_str(&format!(
                "{indent}    {} by {} at {} ({}, {})\n",
                d.action,
                crate::domain::text::line(d.operator.as_deref().unwrap_or("the platform")),
                d.occurred_at,
                shown.of(d.id),
                if d.counted { "counted" } else { "left out" }
            ));
        }
    }
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
