//! `snapshot_account`: the broker account as the platform's collector captured it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use sqlx::PgConnection;

use super::Store;
use super::error::Error;
use crate::domain::AccountSnapshot;
use crate::domain::stored::{Flagged, Flaw, Listed, Numeric, Stamp};
use crate::format::short;

/// A `snapshot_account` row as stored: every value its columns admit reads.
#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: Uuid,
    balance: Numeric,
    equity: Numeric,
    margin_used: Numeric,
    margin_free: Numeric,
    open_pl: Numeric,
    open_positions: i32,
    captured_at: Stamp,
}

impl AccountRow {
    /// The capture, or the row flagged with every column it could not read.
    pub(crate) fn listed(self) -> Listed<AccountSnapshot> {
        let number = |column: &'static str, n: &Numeric| {
            n.number().ok_or_else(|| Flaw::new(column, n.to_string()))
        };
        let reads = (
            number("balance", &self.balance),
            number("equity", &self.equity),
            number("margin_used", &self.margin_used),
            number("margin_free", &self.margin_free),
            number("open_pl", &self.open_pl),
            self.captured_at
                .at()
                .ok_or_else(|| Flaw::new("captured_at", self.captured_at.to_string())),
        );
        match reads {
            (Ok(balance), Ok(equity), Ok(margin_used), Ok(margin_free), Ok(open_pl), Ok(at)) => {
                Listed::Read(AccountSnapshot {
                    id: self.id,
                    balance,
                    equity,
                    margin_used,
                    margin_free,
                    open_pl,
                    open_positions: self.open_positions,
                    captured_at: at,
                })
            }
            (a, b, c, d, e, f) => Listed::Flagged(Flagged {
                table: "snapshot_account",
                id: self.id,
                flaws: [a.err(), b.err(), c.err(), d.err(), e.err(), f.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
                at: Some(self.captured_at),
                columns: vec![
                    ("balance", self.balance.to_string()),
                    ("equity", self.equity.to_string()),
                    ("margin_used", self.margin_used.to_string()),
                    ("margin_free", self.margin_free.to_string()),
                    ("open_pl", self.open_pl.to_string()),
                    ("open_positions", self.open_positions.to_string()),
                    ("captured_at", self.captured_at.to_string()),
                ],
            }),
        }
    }
}

/// The capture a row holds, or the refusal naming the row and the columns that cannot be
/// read: what a figure computed from it (the day's drawdown) says.
pub(crate) fn readable(listed: Listed<AccountSnapshot>) -> Result<AccountSnapshot, Error> {
    listed.into_read().map_err(unreadable)
}

fn unreadable(f: Flagged) -> Error {
    Error::Unreadable {
        what: format!("account capture {} (snapshot_account)", short(f.id)),
        reason: f.reason(),
    }
}

/// A trading day's captures: those read, oldest first, and those that cannot be (flagged:
/// a screen says so; an act that needs the day's figures is refused).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayCaptures {
    pub read: Vec<AccountSnapshot>,
    pub flagged: Vec<Flagged>,
}

impl DayCaptures {
    fn of(rows: Vec<AccountRow>) -> DayCaptures {
        let mut day = DayCaptures::default();
        for row in rows {
            match row.listed() {
                Listed::Read(s) => day.read.push(s),
                Listed::Flagged(f) => day.flagged.push(f),
            }
        }
        day
    }

    /// True when a capture of the day so far (up to `now`) cannot be read: the day's figures
    /// would be a guess. One dated after `now` is no part of the day yet.
    pub fn unreadable_by(&self, now: DateTime<Utc>) -> bool {
        self.flagged
            .iter()
            .any(|f| f.at.is_none_or(|at| at <= Stamp::At(now)))
    }

    /// Every capture read, or the refusal naming the first that cannot be.
    pub fn whole(self) -> Result<Vec<AccountSnapshot>, Error> {
        match self.flagged.into_iter().next() {
            Some(f) => Err(unreadable(f)),
            None => Ok(self.read),
        }
    }
}

const SELECT: &str = "SELECT id, balance, equity, margin_used, margin_free, open_pl,
                             open_positions, captured_at
                        FROM snapshot_account";

/// The last snapshot before `from` and every one since (up to `until`, when given), oldest
/// first: what the day's P/L and drawdown are computed from. A capture dated `±infinity`
/// is no moment of the day: only finite times are read.
pub(crate) async fn day_snapshots(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<DayCaptures, Error> {
    let rows: Vec<AccountRow> = sqlx::query_as(&format!(
        "({SELECT} WHERE captured_at < $1 AND captured_at > '-infinity'
           ORDER BY captured_at DESC LIMIT 1)
         UNION ALL
         ({SELECT} WHERE captured_at >= $1 AND captured_at < 'infinity'
             AND ($2::timestamptz IS NULL OR captured_at <= $2)
           ORDER BY captured_at)
         ORDER BY captured_at"
    ))
    .bind(from)
    .bind(until)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::Database)?;
    Ok(DayCaptures::of(rows))
}

/// How many ideas await approval, and since when the oldest has waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub count: i64,
    /// As stored: `-∞` when a writer dated one so.
    pub oldest: Option<Stamp>,
}

impl Store {
    /// The newest account snapshot with a finite time (index
    /// `idx_snapshot_account_captured`), or its row flagged.
    pub async fn latest_account(&self) -> Result<Option<Listed<AccountSnapshot>>, Error> {
        let row: Option<AccountRow> = sqlx::query_as(&format!(
            "{SELECT} WHERE captured_at < 'infinity' ORDER BY captured_at DESC LIMIT 1"
        ))
        .fetch_optional(self.pool())
        .await
        .map_err(Error::Database)?;
        Ok(row.map(AccountRow::listed))
    }

    /// The snapshots of a trading day: the last one before `from` (the day's opening
    /// state) and every one since, oldest first; those that cannot be read flagged.
    pub async fn account_since(&self, from: DateTime<Utc>) -> Result<DayCaptures, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        day_snapshots(&mut conn, from, None).await
    }

    /// Ideas awaiting approval (of `symbol`, when given): the true number, whatever a
    /// list's window holds (index `idx_trade_ideas_status`).
    pub async fn pending(&self, symbol: Option<&str>) -> Result<Pending, Error> {
        let (count, oldest): (i64, Option<Stamp>) = sqlx::query_as(
            "SELECT count(*), min(created_at) FROM trade_ideas
              WHERE status = 'needs_approval' AND ($1::text IS NULL OR symbol = $1)",
        )
        .bind(symbol.map(str::to_ascii_uppercase))
        .fetch_one(self.pool())
        .await
        .map_err(Error::Database)?;
        Ok(Pending { count, oldest })
    }
}
