//! `tradedesk simulate`: the simulated platform, in the foreground until it ends or Ctrl-C.

use std::io::{IsTerminal as _, Write as _};

use chrono::{DateTime, Utc};

use super::output::Out;
use super::{Failure, SimulateArgs, open};
use crate::format::{parse_time, timestamp};
use crate::sim::engine::{self, Liveliness, Options, Pace, SimError, Summary};
use crate::store::{ErrorCode, Target};

/// `by`: the admin who writes a simulation into a live database (recorded in the audit).
pub async fn run(
    target: &Target,
    out: Out,
    args: SimulateArgs,
    by: Option<&crate::operator::Operator>,
) -> Result<(), Failure> {
    let now = Utc::now();
    let options = options(&args, now)?;
    let store = open(target).await?;
    engine::check_ownership(&store, args.into_live_database)
        .await
        .map_err(failure)?;
    if let (Some(by), true) = (by, args.into_live_database) {
        crate::store::changes::record(
            store.pool(),
            by,
            crate::store::changes::Maintenance::Simulation,
            &format!(
                "simulate --into-live-database: the simulated platform writes into this \
                 database (seed {})",
                args.seed
            ),
            serde_json::json!({ "seed": args.seed, "fast": args.fast, "lively": args.lively }),
        )
        .await?;
    }
    let on_terminal = !out.json && std::io::stderr().is_terminal();
    let progress = |s: &Summary| {
        if on_terminal {
            eprint!("\r\x1b[2K{}", line(s));
            let _ = std::io::stderr().flush();
        }
    };
    let summary = tokio::select! {
        result = engine::run(&store, &options, progress) => result.map_err(failure)?,
        _ = tokio::signal::ctrl_c() => {
            if on_terminal {
                eprintln!();
            }
            eprintln!("stopped: what was written is whole; the rows of the last minute may be missing");
            return Ok(());
        }
    };
    if on_terminal {
        eprintln!();
    }
    if out.json {
        return out.json(&summary);
    }
    println!(
        "Simulated {} to {} (seed {}).",
        timestamp(options.from),
        summary.simulated_until.map(timestamp).unwrap_or_default(),
        options.seed
    );
    println!("{}", line(&summary));
    Ok(())
}

fn options(args: &SimulateArgs, now: DateTime<Utc>) -> Result<Options, Failure> {
    let invalid = |message: String| Failure::new(ErrorCode::InvalidInput, message);
    let from = match &args.from {
        Some(text) => parse_time(text, now).map_err(|e| invalid(e.to_string()))?,
        None => now,
    };
    let duration = args
        .duration
        .as_deref()
        .map(|d| {
            humantime::parse_duration(d)
                .ok()
                .and_then(|d| chrono::Duration::from_std(d).ok())
                .ok_or_else(|| invalid(format!("`{d}` is not a duration: use 30m, 2h, 3d")))
        })
        .transpose()?;
    let until = match (duration, args.fast) {
        (Some(d), _) => Some(from + d),
        (None, true) if from < now => Some(now),
        (None, true) => {
            return Err(invalid(
                "--fast needs an end: give --duration, or a --from in the past (it runs until now)"
                    .into(),
            ));
        }
        (None, false) => None,
    };
    Ok(Options {
        seed: args.seed,
        from,
        until,
        pace: if args.fast {
            Pace::Fast
        } else {
            Pace::Speed(f64::from(args.speed.unwrap_or(1)))
        },
        liveliness: if args.lively {
            Liveliness::Lively
        } else {
            Liveliness::Normal
        },
    })
}

/// `simulated to 2026-11-20 14:05:00 · 1 234 candles · 12 ideas (5 executed, 6 for approval, 1 rejected) · 4 fills · 3 closes · 1 halt`.
fn line(s: &Summary) -> String {
    format!(
        "simulated to {} · {} candles · {} account snapshots · {} ideas ({} auto-executed, {} for approval, {} rejected, {} halted) · {} fills · {} closes · {} halts",
        s.simulated_until
            .map(timestamp)
            .unwrap_or_else(|| "…".into()),
        s.candles,
        s.account_snapshots,
        s.ideas_auto_executed + s.ideas_awaiting_approval + s.ideas_rejected + s.ideas_halted,
        s.ideas_auto_executed,
        s.ideas_awaiting_approval,
        s.ideas_rejected,
        s.ideas_halted,
        s.fills,
        s.closes,
        s.halts
    )
}

fn failure(e: SimError) -> Failure {
    match e {
        SimError::PlatformData | SimError::AlreadyRunning => {
            Failure::new(ErrorCode::Conflict, e.to_string())
        }
        SimError::Store(e) => e.into(),
    }
}
