//! `strategies`: the rule sets the engine trades by. Rules are checked strictly before
//! anything is written; every change is audited in `config_changes` by the
//! database (migration 14).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{Acquire as _, PgConnection, PgPool};
use uuid::Uuid;

use super::Store;
use super::changes;
use super::error::Error;
use super::value::JsonText;
use crate::domain::act::Act;
use crate::domain::instrument::position_pl;
use crate::domain::pnl::StrategyDay;
use crate::domain::stored::{Flagged, Flaw, Listed, Numeric, Stamp, StoredArray};
use crate::domain::strategy::document::StrategySpec;
use crate::domain::strategy::{RulesJson, Strategy, StrategyFields, legacy};
use crate::format::short;
use crate::operator::Operator;

/// A `strategies` row as stored: every value its columns admit reads (its documents as
/// their text); [`StrategyRow::listed`] makes the [`Strategy`] of it, or flags it.
#[derive(sqlx::FromRow)]
struct StrategyRow {
    id: Uuid,
    name: String,
    is_active: bool,
    allowed_symbols: StoredArray<String>,
    session_windows: JsonText,
    entry_conditions: JsonText,
    exit_rules: JsonText,
    forbidden_conditions: JsonText,
    risk_caps: JsonText,
    rr_expectation: Numeric,
    created_at: Stamp,
    updated_at: Stamp,
}

/// A strategy's columns as one value, in [`StrategyRow`]'s order (`s` the `strategies`
/// row), for a statement that reads it beside another row: an approval reads the idea,
/// its strategy and the clock in one (`ideas::fetch_for_decision`).
pub(crate) const RECORD: &str = "ROW(s.id, s.name, s.is_active, s.allowed_symbols, \
     s.session_windows, s.entry_conditions, s.exit_rules, s.forbidden_conditions, \
     s.risk_caps, s.rr_expectation, s.created_at, s.updated_at)";

/// A strategy read as [`RECORD`]: its fields decoded as [`StrategyRow`]'s columns are.
pub(crate) struct StrategyRecord(StrategyRow);

impl StrategyRecord {
    /// The strategy, or a refusal naming what cannot be read.
    pub(crate) fn strategy(self) -> Result<Strategy, Error> {
        readable(self.0.listed())
    }
}

impl sqlx::Type<sqlx::Postgres> for StrategyRecord {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        sqlx::postgres::PgTypeInfo::with_name("record")
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        sqlx::TypeInfo::name(ty) == "RECORD"
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for StrategyRecord {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let mut fields = sqlx::postgres::types::PgRecordDecoder::new(value)?;
        Ok(StrategyRecord(StrategyRow {
            id: fields.try_decode()?,
            name: fields.try_decode()?,
            is_active: fields.try_decode()?,
            allowed_symbols: fields.try_decode()?,
            session_windows: fields.try_decode()?,
            entry_conditions: fields.try_decode()?,
            exit_rules: fields.try_decode()?,
            forbidden_conditions: fields.try_decode()?,
            risk_caps: fields.try_decode()?,
            rr_expectation: fields.try_decode()?,
            created_at: fields.try_decode()?,
            updated_at: fields.try_decode()?,
        }))
    }
}

impl StrategyRow {
    /// The strategy, or the row flagged with every column it could not read. Documents
    /// that are JSON but not the platform's shapes still make a strategy (one that cannot
    /// trade, its problems listed); only a document serde cannot hold flags the row.
    fn listed(self) -> Listed<Strategy> {
        let mut flaws = Vec::new();
        let mut document = |column: &'static str, text: &JsonText| {
            serde_json::from_str::<Value>(&text.0)
                .map_err(|e| {
                    flaws.push(Flaw::new(
                        column,
                        format!("JSON tradedesk cannot read ({e})"),
                    ))
                })
                .ok()
        };
        let documents = (
            document("session_windows", &self.session_windows),
            document("entry_conditions", &self.entry_conditions),
            document("exit_rules", &self.exit_rules),
            document("forbidden_conditions", &self.forbidden_conditions),
            document("risk_caps", &self.risk_caps),
        );
        let symbols = self
            .allowed_symbols
            .read("allowed_symbols", |s| Ok(s.clone()))
            .map_err(|f| flaws.extend(f))
            .ok();
        let rr = self.rr_expectation.number();
        if rr.is_none() {
            flaws.push(Flaw::new("rr_expectation", self.rr_expectation.to_string()));
        }
        let created_at = self.created_at.at();
        if created_at.is_none() {
            flaws.push(Flaw::new("created_at", self.created_at.to_string()));
        }
        let updated_at = self.updated_at.at();
        if updated_at.is_none() {
            flaws.push(Flaw::new("updated_at", self.updated_at.to_string()));
        }
        match (documents, symbols, rr, created_at, updated_at) {
            (
                (
                    Some(session_windows),
                    Some(entry_conditions),
                    Some(exit_rules),
                    Some(forbidden_conditions),
                    Some(risk_caps),
                ),
                Some(allowed_symbols),
                Some(rr_expectation),
                Some(created_at),
                Some(updated_at),
            ) if flaws.is_empty() => Listed::Read(Strategy::new(StrategyFields {
                id: self.id,
                name: self.name,
                is_active: self.is_active,
                allowed_symbols,
                documents: RulesJson {
                    session_windows,
                    entry_conditions,
                    exit_rules,
                    forbidden_conditions,
                    risk_caps,
                },
                rr_expectation,
                created_at,
                updated_at,
            })),
            _ => Listed::Flagged(Flagged {
                table: "strategies",
                id: self.id,
                flaws,
                at: Some(self.created_at),
                columns: vec![
                    ("name", self.name.clone()),
                    ("is_active", self.is_active.to_string()),
                    ("allowed_symbols", self.allowed_symbols.to_string()),
                    ("session_windows", self.session_windows.0.clone()),
                    ("entry_conditions", self.entry_conditions.0.clone()),
                    ("exit_rules", self.exit_rules.0.clone()),
                    ("forbidden_conditions", self.forbidden_conditions.0.clone()),
                    ("risk_caps", self.risk_caps.0.clone()),
                    ("rr_expectation", self.rr_expectation.to_string()),
                    ("created_at", self.created_at.to_string()),
                    ("updated_at", self.updated_at.to_string()),
                ],
            }),
        }
    }
}

/// The strategy a row holds, or the refusal naming the row and the columns that cannot be
/// read.
pub(crate) fn readable(listed: Listed<Strategy>) -> Result<Strategy, Error> {
    listed.into_read().map_err(|f| Error::Unreadable {
        what: format!("strategy {}", short(f.id)),
        reason: f.reason(),
    })
}

/// The day of strategy `id`, quiet until something is counted.
fn day(days: &mut BTreeMap<Uuid, StrategyDay>, id: Uuid) -> &mut StrategyDay {
    days.entry(id).or_insert_with(|| StrategyDay::quiet(id))
}

/// A filled position still open, with its symbol's last price.
#[derive(sqlx::FromRow)]
struct OpenPositionRow {
    strategy_id: Uuid,
    symbol: String,
    direction: String,
    lot_size: Numeric,
    fill_price: Option<Numeric>,
    price: Option<Numeric>,
}

pub(crate) const SELECT: &str = "SELECT id, name, is_active, allowed_symbols, session_windows,
                             entry_conditions, exit_rules, forbidden_conditions, risk_caps,
                             rr_expectation, created_at, updated_at
                        FROM strategies";

/// How an import treated one strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub id: Uuid,
    pub name: String,
    pub outcome: ImportOutcome,
}

/// What an import did to one strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportOutcome {
    Created,
    Updated,
    /// Equal to the stored strategy: nothing written, no audit row.
    Unchanged,
}

impl ImportOutcome {
    /// `created`, `updated`, `unchanged`: also the audit row's `change`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportOutcome::Created => "created",
            ImportOutcome::Updated => "updated",
            ImportOutcome::Unchanged => "unchanged",
        }
    }
}

/// A strategy `tradedesk setup` converted from tradedesk's old shapes to the platform's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Converted {
    pub id: Uuid,
    pub name: String,
    /// What changed, one line each (`session_windows[0].days: mon → Mon`).
    pub changes: Vec<String>,
}

impl Store {
    /// Every strategy, by name.
    pub async fn strategies(&self) -> Result<Vec<Listed<Strategy>>, Error> {
        let rows: Vec<StrategyRow> = sqlx::query_as(&format!("{SELECT} ORDER BY name, id"))
            .fetch_all(self.pool())
            .await
            .map_err(Error::Database)?;
        Ok(rows.into_iter().map(StrategyRow::listed).collect())
    }

    /// Each strategy's day since `day_start`: ideas from the platform's own decision rows
    /// (one per idea proposed: `ai_proposed`, `ai_auto_executed` or `risk_rejected`, on
    /// `idx_decision_history_action_occurred`), P/L of positions closed since then (on
    /// `idx_executions_closed`) and of those still open, valued at their symbol's last
    /// close. Strategies with nothing today are left out.
    pub async fn strategy_days(&self, day_start: DateTime<Utc>) -> Result<Vec<StrategyDay>, Error> {
        let ideas: Vec<(Uuid, i64, i64)> = sqlx::query_as(
            "SELECT strategy_id, count(DISTINCT trade_idea_id),
                    count(DISTINCT trade_idea_id) FILTER (WHERE action = 'ai_auto_executed')
               FROM decision_history
              WHERE action IN ('ai_proposed', 'ai_auto_executed', 'risk_rejected')
                AND occurred_at >= $1 AND operator IS NULL
                AND strategy_id IS NOT NULL AND trade_idea_id IS NOT NULL
              GROUP BY strategy_id",
        )
        .bind(day_start)
        .fetch_all(self.pool())
        .await
        .map_err(Error::Database)?;
        // A sum over a NaN is NaN: that strategy's closed P/L is then not known, not zero.
        let closed: Vec<(Uuid, Numeric)> = sqlx::query_as(
            "SELECT i.strategy_id, sum(e.realized_pl)
               FROM tradedesk.executions e JOIN trade_ideas i ON i.id = e.trade_idea_id
              WHERE e.closed_at >= $1 AND i.strategy_id IS NOT NULL
              GROUP BY i.strategy_id",
        )
        .bind(day_start)
        .fetch_all(self.pool())
        .await
        .map_err(Error::Database)?;
        let open: Vec<OpenPositionRow> = sqlx::query_as(&format!(
            "SELECT i.strategy_id, i.symbol, i.direction, e.lot_size, e.fill_price, p.close AS price
               FROM tradedesk.executions e JOIN trade_ideas i ON i.id = e.trade_idea_id
               CROSS JOIN LATERAL (SELECT i.symbol) s
               LEFT JOIN LATERAL ({}) p ON true
              WHERE e.closed_at IS NULL AND e.state = 'filled' AND i.strategy_id IS NOT NULL",
            super::LAST_CLOSE
        ))
        .fetch_all(self.pool())
        .await
        .map_err(Error::Database)?;

        let mut days = BTreeMap::new();
        for (id, count, auto) in ideas {
            let d = day(&mut days, id);
            (d.ideas, d.auto_executed) = (count, auto);
        }
        for (id, realized) in closed {
            match realized.number() {
                Some(realized) => day(&mut days, id).realized = realized,
                None => day(&mut days, id).open_pl = None,
            }
        }
        for p in open {
            let number = |n: Option<&Numeric>| n.and_then(Numeric::number);
            let valued = match (
                number(p.fill_price.as_ref()),
                number(p.price.as_ref()),
                p.lot_size.number(),
            ) {
                (Some(fill), Some(now), Some(lot)) => {
                    position_pl(&p.symbol, p.direction == "buy", fill, now, lot)
                }
                _ => None,
            };
            let d = day(&mut days, p.strategy_id);
            d.open_positions += 1;
            d.open_pl = d.open_pl.zip(valued).map(|(a, b)| a + b);
        }
        Ok(days.into_values().collect())
    }

    /// One strategy; refused, naming the columns, when its row cannot be read.
    pub async fn strategy(&self, id: Uuid) -> Result<Strategy, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        fetch(&mut conn, id, Lock::None).await
    }

    /// One strategy, or its row flagged when it cannot be read.
    pub async fn strategy_listed(&self, id: Uuid) -> Result<Listed<Strategy>, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        fetch_listed(&mut conn, id, Lock::None).await
    }

    /// Enables or disables a strategy. Returns it, and whether anything changed.
    pub async fn set_strategy_active(
        &self,
        id: Uuid,
        active: bool,
        operator: &Operator,
    ) -> Result<(Strategy, bool), Error> {
        operator.may(Act::ToggleStrategy)?;
        let mut tx = self.acts().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let before = fetch(conn, id, Lock::Edit).await?;
        if before.is_active == active {
            return Ok((before, false));
        }
        changes::name(conn, operator, None).await?;
        sqlx::query("UPDATE strategies SET is_active = $2, updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(active)
            .execute(&mut *conn)
            .await
            .map_err(Error::Database)?;
        let after = fetch(conn, id, Lock::None).await?;
        tx.commit().await.map_err(Error::Database)?;
        Ok((after, true))
    }

    /// Deletes a strategy no idea or decision refers to; otherwise says to disable it.
    pub async fn delete_strategy(&self, id: Uuid, operator: &Operator) -> Result<Strategy, Error> {
        operator.may(Act::EditStrategy)?;
        let mut tx = self.acts().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let before = fetch(conn, id, Lock::Delete).await?;
        let (ideas, decisions): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM trade_ideas WHERE strategy_id = $1),
                    (SELECT count(*) FROM decision_history WHERE strategy_id = $1)",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::Database)?;
        if ideas + decisions > 0 {
            return Err(Error::Conflict(format!(
                "strategy \"{}\" is referenced by {ideas} idea(s) and {decisions} decision(s), \
                 which must keep it: disable it instead (`tradedesk strategies disable {}`)",
                before.name,
                short(id)
            )));
        }
        changes::name(conn, operator, None).await?;
        sqlx::query("DELETE FROM strategies WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(Error::Database)?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(before)
    }

    /// Creates or updates (by `id`) every strategy of `specs` in one transaction; one equal
    /// to the stored strategy is left untouched.
    pub async fn import_strategies(
        &self,
        specs: &[StrategySpec],
        operator: &Operator,
    ) -> Result<Vec<Imported>, Error> {
        operator.may(Act::EditStrategy)?;
        for spec in specs {
            crate::domain::text::typed(crate::domain::text::Typed::StrategyName, &spec.name)?;
        }
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let mut out = Vec::new();
        // Rows are locked in id order, so two imports never deadlock each other.
        let mut order: Vec<&StrategySpec> = specs.iter().collect();
        order.sort_by_key(|s| s.id);
        for spec in order {
            out.push(save(conn, spec, operator).await?);
        }
        tx.commit().await.map_err(Error::Database)?;
        Ok(out)
    }
}

/// Saves one imported strategy with its audit row, unless it equals the stored one.
async fn save(
    conn: &mut PgConnection,
    spec: &StrategySpec,
    operator: &Operator,
) -> Result<Imported, Error> {
    let existing = match spec.id {
        Some(id) => match fetch(conn, id, Lock::Edit).await {
            Ok(found) => Some(found),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let id = spec.id.unwrap_or_else(Uuid::now_v7);
    if let Some(row) = existing.as_ref().filter(|row| spec.same_as(row)) {
        return Ok(Imported {
            id,
            name: row.name.clone(),
            outcome: ImportOutcome::Unchanged,
        });
    }
    let sql = if existing.is_some() {
        "UPDATE strategies SET name = $2, is_active = $3, allowed_symbols = $4,
                session_windows = $5::json, entry_conditions = $6::json,
                exit_rules = $7::json, forbidden_conditions = $8::json,
                risk_caps = $9::json, rr_expectation = $10, updated_at = now()
          WHERE id = $1"
    } else {
        "INSERT INTO strategies (id, name, is_active, allowed_symbols, session_windows,
                                 entry_conditions, exit_rules, forbidden_conditions,
                                 risk_caps, rr_expectation, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5::json, $6::json, $7::json, $8::json, $9::json, $10,
                 now(), now())"
    };
    // The documents are written exactly as given: the platform's evaluator reads them.
    let r = &spec.rules;
    changes::name(conn, operator, None).await?;
    sqlx::query(sql)
        .bind(id)
        .bind(&spec.name)
        .bind(spec.is_active)
        .bind(&spec.allowed_symbols)
        .bind(r.session_windows.to_string())
        .bind(r.entry_conditions.to_string())
        .bind(r.exit_rules.to_string())
        .bind(r.forbidden_conditions.to_string())
        .bind(r.risk_caps.to_string())
        .bind(spec.rr_expectation)
        .execute(&mut *conn)
        .await
        .map_err(Error::Database)?;
    let after = fetch(conn, id, Lock::None).await?;
    let outcome = if existing.is_some() {
        ImportOutcome::Updated
    } else {
        ImportOutcome::Created
    };
    Ok(Imported {
        id,
        name: after.name,
        outcome,
    })
}

/// Converts every strategy written in tradedesk's old shapes (lower-case days, the
/// R-multiple exit keys, symbols in the news block) to the platform's documents, in one
/// transaction with an audit row each. Strategies already in the platform's shapes, and
/// old ones that would still not read after conversion, are left as they are.
pub async fn convert_legacy(pool: &PgPool, operator: &Operator) -> Result<Vec<Converted>, Error> {
    super::retrying(|| async {
        let mut tx = pool.begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let rows: Vec<StrategyRow> =
            sqlx::query_as(&format!("{SELECT} ORDER BY id FOR NO KEY UPDATE"))
                .fetch_all(&mut *conn)
                .await
                .map_err(Error::Database)?;
        let mut converted = Vec::new();
        // A row that cannot be read is no old shape to convert: left as it is.
        for before in rows.into_iter().filter_map(|r| r.listed().into_read().ok()) {
            let Some(conversion) = legacy::convert(&before.documents) else {
                continue;
            };
            if conversion.rules.parse().is_err() {
                tracing::warn!(strategy = %before.id, "old-shape strategy does not read after conversion; left as it is");
                continue;
            }
            let r = &conversion.rules;
            changes::name(conn, operator, Some("converted to the platform's documents")).await?;
            sqlx::query(
                "UPDATE strategies SET session_windows = $2::json, exit_rules = $3::json,
                        forbidden_conditions = $4::json, updated_at = now()
                  WHERE id = $1",
            )
            .bind(before.id)
            .bind(r.session_windows.to_string())
            .bind(r.exit_rules.to_string())
            .bind(r.forbidden_conditions.to_string())
            .execute(&mut *conn)
            .await
            .map_err(Error::Database)?;
            converted.push(Converted {
                id: before.id,
                name: before.name,
                changes: conversion.changes,
            });
        }
        tx.commit().await.map_err(Error::Database)?;
        Ok(converted)
    })
    .await
}

/// How to lock a strategy row read for a change.
#[derive(Clone, Copy)]
pub(crate) enum Lock {
    None,
    /// For an approval: the rules judged cannot change until it commits.
    Share,
    /// For edits: does not block the engine's foreign-key checks (`FOR KEY SHARE`) when it
    /// inserts ideas for the strategy, so edits and the engine never deadlock.
    Edit,
    /// For deletion, which must exclude new references.
    Delete,
}

pub(crate) async fn fetch(
    conn: &mut PgConnection,
    id: Uuid,
    lock: Lock,
) -> Result<Strategy, Error> {
    readable(fetch_listed(conn, id, lock).await?)
}

/// [`fetch`], the row flagged rather than refused when it cannot be read.
pub(crate) async fn fetch_listed(
    conn: &mut PgConnection,
    id: Uuid,
    lock: Lock,
) -> Result<Listed<Strategy>, Error> {
    let sql = match lock {
        Lock::None => format!("{SELECT} WHERE id = $1"),
        Lock::Share => format!("{SELECT} WHERE id = $1 FOR SHARE"),
        Lock::Edit => format!("{SELECT} WHERE id = $1 FOR NO KEY UPDATE"),
        Lock::Delete => format!("{SELECT} WHERE id = $1 FOR UPDATE"),
    };
    let row: Option<StrategyRow> = sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?;
    row.map(StrategyRow::listed).ok_or_else(|| Error::NotFound {
        what: "strategy",
        id: id.to_string(),
    })
}
