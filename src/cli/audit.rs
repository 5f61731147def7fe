//! `tradedesk audit verify|head`: the tamper-evident audit of migration 7.

use serde_json::json;

use super::output::Out;
use super::{Failure, open};
use crate::store::audit::{self, AuditError, Head, Verified};
use crate::store::{ErrorCode, Target};

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chains of decision_history and config_changes and recompute every
    /// row's hash. Prints each table's rows verified and "intact"; otherwise names the
    /// first row changed, deleted or inserted out of band (its id, its seq, what is wrong)
    /// and exits 5 (CONFLICT).
    Verify {
        /// A head printed earlier by `tradedesk audit head` (TABLE:SEQ:HASH), kept where
        /// the database's superusers cannot write: the chain must still pass through it.
        /// This catches a chain rewritten whole, hashes and head included. Repeatable. With
        /// --archive, a head `tradedesk archive` printed: the file must pass through it.
        #[arg(long = "expect", value_name = "TABLE:SEQ:HASH")]
        expect: Vec<String>,
        /// Verify an archive written by `tradedesk archive` instead: its checksum, the
        /// archived rows' chain from the hash recorded before them to the boundary hash,
        /// and, with a database configured, that the database recorded this file and its
        /// chain continues from that boundary (without one: "not checked against a
        /// database", unless --expect checks it).
        #[arg(long, value_name = "FILE")]
        archive: Option<std::path::PathBuf>,
    },
    /// Print each chain's head (TABLE:SEQ:HASH, one a line): keep it elsewhere, and give
    /// it back to `audit verify --expect` later.
    Head,
}

pub async fn run(target: &Target, out: Out, command: AuditCommand) -> Result<(), Failure> {
    match command {
        AuditCommand::Verify {
            archive: Some(path),
            expect,
        } => super::archive::verify(target, out, &path, &expect).await,
        AuditCommand::Verify {
            expect,
            archive: None,
        } => {
            // Read the kept heads before connecting: a typo is refused whatever the database.
            let kept = expect
                .iter()
                .map(|text| Head::parse(text))
                .collect::<Result<Vec<_>, _>>()
                .map_err(failure)?;
            let store = open(target).await?;
            let verified = audit::verify(&store, &kept).await.map_err(failure)?;
            verify_output(out, &verified).await
        }
        AuditCommand::Head => {
            let store = open(target).await?;
            let heads = audit::head(&store).await.map_err(failure)?;
            if out.json {
                return out.json(&json!({ "heads": heads }));
            }
            for head in heads {
                println!("{head}");
            }
            Ok(())
        }
    }
}

fn failure(e: AuditError) -> Failure {
    let code = match e {
        AuditError::BadHead(_) => ErrorCode::InvalidInput,
        AuditError::Database(_) | AuditError::Unreadable { .. } => ErrorCode::Database,
    };
    Failure::new(code, e.to_string())
}

/// The report, then CONFLICT if a chain is not intact.
async fn verify_output(out: Out, verified: &[Verified]) -> Result<(), Failure> {
    let broken = verified
        .iter()
        .find_map(|v| v.problem.as_ref().map(|p| (v.table, p)))
        .map(|(table, problem)| {
            Failure::new(
                ErrorCode::Conflict,
                format!(
                    "the audit trail of {table} is not intact ({}): {}",
                    problem.kind.as_str(),
                    problem.detail
                ),
            )
        });
    if !out.json {
        for v in verified {
            println!("{}", line(v));
        }
        return broken.map_or(Ok(()), Err);
    }
    let value = json!({
        "intact": broken.is_none(),
        "tables": verified,
    });
    out.json_report(value, broken).await
}

/// `decision_history: 1234 rows verified, intact (head seq 1234)`, or what is wrong.
fn line(v: &Verified) -> String {
    let rows = match v.rows {
        1 => "1 row verified".to_string(),
        n => format!("{n} rows verified"),
    };
    let archived = v
        .archived
        .as_ref()
        .map(|a| format!("; seqs up to {} archived", a.seq))
        .unwrap_or_default();
    let unchecked = match v.unchecked.len() {
        0 => String::new(),
        n => format!("; {n} kept head(s) archived since, not checked"),
    };
    match (&v.problem, &v.head) {
        (None, Some(head)) => format!(
            "{}: {rows}, intact (head seq {}{archived}{unchecked})",
            v.table, head.seq
        ),
        (None, None) => format!("{}: {rows}, intact", v.table),
        (Some(problem), _) => format!(
            "{}: {rows}, then {}: {}",
            v.table,
            problem.kind.as_str(),
            crate::domain::text::line(&problem.detail)
        ),
    }
}
