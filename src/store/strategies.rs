//! `strategies`: the rule sets the engine trades by. Rules are checked strictly before
//! anything is written; every change is audited in `config_changes`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::{Acquire as _, PgConnection, PgPool};
use uuid::Uuid;

use super::Store;
use super::error::Error;
use super::ids::{self, Kind};
use crate::domain::numeric::{NumericColumn, parse_plain_decimal};
use crate::domain::strategy::legacy;
use crate::domain::{RulesJson, StrategyRules, StrategyRulesError};
use crate::operator::Operator;

/// `rr_expectation NUMERIC(5,2)`.
const RR: NumericColumn = NumericColumn::new(5, 2);

/// A strategy row.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Strategy {
    pub id: Uuid,
    pub name: String,
    pub is_active: bool,
    pub allowed_symbols: Vec<String>,
    pub session_windows: Value,
    pub entry_conditions: Value,
    pub exit_rules: Value,
    pub forbidden_conditions: Value,
    pub risk_caps: Value,
    pub rr_expectation: Decimal,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT id, name, is_active, allowed_symbols, session_windows,
                             entry_conditions, exit_rules, forbidden_conditions, risk_caps,
                             rr_expectation, created_at, updated_at
                        FROM strategies";

/// The fields of a strategy document (`strategies import` / `export`).
const FIELDS: [&str; 10] = [
    "id",
    "name",
    "is_active",
    "allowed_symbols",
    "session_windows",
    "entry_conditions",
    "exit_rules",
    "forbidden_conditions",
    "risk_caps",
    "rr_expectation",
];

/// A strategy document that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategySpec {
    pub id: Option<Uuid>,
    pub name: String,
    pub is_active: bool,
    pub allowed_symbols: Vec<String>,
    /// Written back exactly as given: the platform's evaluator reads them.
    pub rules: RulesJson,
    pub rr_expectation: Decimal,
    /// Keys of the evaluator's documents tradedesk does not know (kept), with their paths.
    pub notes: Vec<String>,
}

impl StrategySpec {
    /// True when saving this over `row` would change nothing.
    fn same_as(&self, row: &Strategy) -> bool {
        self.name == row.name
            && self.is_active == row.is_active
            && self.allowed_symbols == row.allowed_symbols
            && self.rules == row.rules()
            && self.rr_expectation == row.rr_expectation
    }
}

impl Strategy {
    /// The row as a document that `strategies import` reads back.
    pub fn to_document(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "is_active": self.is_active,
            "allowed_symbols": self.allowed_symbols,
            "session_windows": self.session_windows,
            "entry_conditions": self.entry_conditions,
            "exit_rules": self.exit_rules,
            "forbidden_conditions": self.forbidden_conditions,
            "risk_caps": self.risk_caps,
            "rr_expectation": self.rr_expectation.to_string(),
        })
    }

    /// The rules read against the platform's documents.
    pub fn parse_rules(&self) -> Result<StrategyRules, StrategyRulesError> {
        self.rules().parse()
    }

    /// The five rule documents.
    pub fn rules(&self) -> RulesJson {
        RulesJson {
            session_windows: self.session_windows.clone(),
            entry_conditions: self.entry_conditions.clone(),
            exit_rules: self.exit_rules.clone(),
            forbidden_conditions: self.forbidden_conditions.clone(),
            risk_caps: self.risk_caps.clone(),
        }
    }
}

/// Reads a strategy document, or a list of them (`[…]` or `{"strategies": […]}`), and
/// checks every field. Every problem is reported with its JSON path; any problem means
/// nothing is returned. A document without `is_active` makes a disabled strategy: a rule
/// set starts trading only when someone says so.
pub fn parse_documents(text: &str) -> Result<Vec<StrategySpec>, Error> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::InvalidInput(format!("the file is not JSON: {e}")))?;
    let (items, prefix): (Vec<&Value>, &str) = match &value {
        Value::Array(items) => (items.iter().collect(), "[]"),
        Value::Object(map) if map.contains_key("strategies") && map.len() == 1 => {
            match &map["strategies"] {
                Value::Array(items) => (items.iter().collect(), "strategies[]"),
                _ => {
                    return Err(Error::InvalidInput(
                        "strategies: expected a list of strategy objects".into(),
                    ));
                }
            }
        }
        Value::Object(_) => (vec![&value], ""),
        _ => {
            return Err(Error::InvalidInput(
                "expected a strategy object, or a list of them".into(),
            ));
        }
    };
    let mut specs = Vec::new();
    let mut problems = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let path = match prefix {
            "" => String::new(),
            p => format!("{}[{n}].", p.trim_end_matches("[]")),
        };
        match parse_spec(item, &path) {
            Ok(spec) => specs.push(spec),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if specs.is_empty() && problems.is_empty() {
        problems.push("the file holds no strategy".into());
    }
    if problems.is_empty() {
        Ok(specs)
    } else {
        Err(Error::InvalidInput(format!(
            "nothing was imported: {}",
            problems.join("; ")
        )))
    }
}

fn parse_spec(value: &Value, path: &str) -> Result<StrategySpec, Vec<String>> {
    let mut problems = Vec::new();
    let Some(map) = value.as_object() else {
        return Err(vec![format!("{path}: expected a strategy object")]);
    };
    for key in map.keys() {
        if !FIELDS.contains(&key.as_str()) {
            problems.push(format!(
                "{path}{key}: unknown field (the fields are {})",
                FIELDS.join(", ")
            ));
        }
    }
    let id = match map.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match Uuid::parse_str(s) {
            Ok(id) => Some(id),
            Err(_) => {
                problems.push(format!("{path}id: expected a UUID, got \"{s}\""));
                None
            }
        },
        Some(other) => {
            problems.push(format!("{path}id: expected a UUID string, got {other}"));
            None
        }
    };
    let name = match map.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => {
            problems.push(format!("{path}name: expected a non-empty string"));
            String::new()
        }
    };
    let is_active = match map.get("is_active") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            problems.push(format!(
                "{path}is_active: expected true or false, got {other}"
            ));
            false
        }
    };
    let allowed_symbols = symbols(map, path, &mut problems);
    let (rules, notes) = rules(map, path, &mut problems);
    let rr_expectation = rr(map, path, &mut problems);
    if problems.is_empty() {
        Ok(StrategySpec {
            id,
            name,
            is_active,
            allowed_symbols,
            rules,
            rr_expectation,
            notes,
        })
    } else {
        Err(problems)
    }
}

fn symbols(map: &Map<String, Value>, path: &str, problems: &mut Vec<String>) -> Vec<String> {
    let Some(Value::Array(items)) = map.get("allowed_symbols") else {
        problems.push(format!(
            "{path}allowed_symbols: expected a list of symbols such as [\"EURUSD\"]"
        ));
        return Vec::new();
    };
    if items.is_empty() {
        problems.push(format!(
            "{path}allowed_symbols: expected at least one symbol"
        ));
    }
    let mut out = Vec::new();
    for (n, item) in items.iter().enumerate() {
        match item.as_str() {
            // Kept as written: the platform matches symbols as its collectors spell them.
            Some(s)
                if !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)) =>
            {
                out.push(s.to_owned());
            }
            _ => problems.push(format!(
                "{path}allowed_symbols[{n}]: expected a symbol such as \"EURUSD\", got {item}"
            )),
        }
    }
    out
}

fn rules(
    map: &Map<String, Value>,
    path: &str,
    problems: &mut Vec<String>,
) -> (RulesJson, Vec<String>) {
    let get = |key: &str| map.get(key).cloned().unwrap_or(Value::Null);
    let rules = RulesJson {
        session_windows: get("session_windows"),
        entry_conditions: get("entry_conditions"),
        exit_rules: get("exit_rules"),
        forbidden_conditions: get("forbidden_conditions"),
        risk_caps: get("risk_caps"),
    };
    let notes = match rules.parse() {
        Ok(parsed) => parsed.notes.iter().map(|n| format!("{path}{n}")).collect(),
        Err(e) => {
            problems.extend(e.problems.iter().map(|p| format!("{path}{p}")));
            Vec::new()
        }
    };
    (rules, notes)
}

fn rr(map: &Map<String, Value>, path: &str, problems: &mut Vec<String>) -> Decimal {
    let text = match map.get("rr_expectation") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let value = parse_plain_decimal(&text)
        .filter(|d| *d >= Decimal::ZERO)
        .and_then(|d| RR.fit(d).ok());
    value.unwrap_or_else(|| {
        problems.push(format!(
            "{path}rr_expectation: expected a reward-to-risk ratio from 0 to 999.99 with at \
             most 2 decimal places, such as 2.50"
        ));
        Decimal::ZERO
    })
}

/// How an import treated one strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub id: Uuid,
    pub name: String,
    /// `created`, `updated`, or `unchanged` (nothing written, no audit row).
    pub outcome: &'static str,
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
    pub async fn strategies(&self) -> Result<Vec<Strategy>, Error> {
        sqlx::query_as(&format!("{SELECT} ORDER BY name, id"))
            .fetch_all(self.pool())
            .await
            .map_err(Error::Database)
    }

    /// One strategy by id or unique id prefix.
    pub async fn strategy(&self, id: &str) -> Result<Strategy, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        let id = ids::resolve(&mut conn, Kind::Strategy, id).await?;
        fetch(&mut conn, id, Lock::None).await
    }

    /// Enables or disables a strategy. Returns it, and whether anything changed.
    pub async fn set_strategy_active(
        &self,
        id: &str,
        active: bool,
        operator: &Operator,
    ) -> Result<(Strategy, bool), Error> {
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let id = ids::resolve(conn, Kind::Strategy, id).await?;
        let before = fetch(conn, id, Lock::Edit).await?;
        if before.is_active == active {
            return Ok((before, false));
        }
        sqlx::query("UPDATE strategies SET is_active = $2, updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(active)
            .execute(&mut *conn)
            .await
            .map_err(Error::Database)?;
        let after = fetch(conn, id, Lock::None).await?;
        let change = if active { "enabled" } else { "disabled" };
        audit(conn, operator, &after, change, Some(&before), Some(&after)).await?;
        tx.commit().await.map_err(Error::Database)?;
        Ok((after, true))
    }

    /// Deletes a strategy no idea or decision refers to; otherwise says to disable it.
    pub async fn delete_strategy(&self, id: &str, operator: &Operator) -> Result<Strategy, Error> {
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let id = ids::resolve(conn, Kind::Strategy, id).await?;
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
                crate::store::ids::short(id)
            )));
        }
        sqlx::query("DELETE FROM strategies WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(Error::Database)?;
        audit(conn, operator, &before, "deleted", Some(&before), None).await?;
        tx.commit().await.map_err(Error::Database)?;
        Ok(before)
    }

    /// Creates or updates (by `id`) every strategy of `specs` in one transaction.
    pub async fn import_strategies(
        &self,
        specs: &[StrategySpec],
        operator: &Operator,
    ) -> Result<Vec<Imported>, Error> {
        let mut tx = self.pool().begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let mut out = Vec::new();
        // Rows are locked in id order, so two imports never deadlock each other.
        let mut order: Vec<&StrategySpec> = specs.iter().collect();
        order.sort_by_key(|s| s.id);
        for spec in order {
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
                out.push(Imported {
                    id,
                    name: row.name.clone(),
                    outcome: "unchanged",
                });
                continue;
            }
            let json = |v: &Value| v.to_string();
            let r = &spec.rules;
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
            sqlx::query(sql)
                .bind(id)
                .bind(&spec.name)
                .bind(spec.is_active)
                .bind(&spec.allowed_symbols)
                .bind(json(&r.session_windows))
                .bind(json(&r.entry_conditions))
                .bind(json(&r.exit_rules))
                .bind(json(&r.forbidden_conditions))
                .bind(json(&r.risk_caps))
                .bind(spec.rr_expectation)
                .execute(&mut *conn)
                .await
                .map_err(Error::Database)?;
            let after = fetch(conn, id, Lock::None).await?;
            let outcome = if existing.is_some() {
                "updated"
            } else {
                "created"
            };
            audit(
                conn,
                operator,
                &after,
                outcome,
                existing.as_ref(),
                Some(&after),
            )
            .await?;
            out.push(Imported {
                id,
                name: after.name,
                outcome,
            });
        }
        tx.commit().await.map_err(Error::Database)?;
        Ok(out)
    }
}

/// Converts every strategy written in tradedesk's old shapes (lower-case days, the
/// R-multiple exit keys, symbols in the news block) to the platform's documents, in one
/// transaction with an audit row each. Strategies already in the platform's shapes, and
/// old ones that would still not read after conversion, are left as they are.
pub async fn convert_legacy(pool: &PgPool, operator: &Operator) -> Result<Vec<Converted>, Error> {
    super::retrying(|| async {
        let mut tx = pool.begin().await.map_err(Error::Database)?;
        let conn = tx.acquire().await.map_err(Error::Database)?;
        let rows: Vec<Strategy> =
            sqlx::query_as(&format!("{SELECT} ORDER BY id FOR NO KEY UPDATE"))
                .fetch_all(&mut *conn)
                .await
                .map_err(Error::Database)?;
        let mut converted = Vec::new();
        for before in rows {
            let Some(conversion) = legacy::convert(&before.rules()) else {
                continue;
            };
            if conversion.rules.parse().is_err() {
                tracing::warn!(strategy = %before.id, "old-shape strategy does not read after conversion; left as it is");
                continue;
            }
            let r = &conversion.rules;
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
            let after = fetch(conn, before.id, Lock::None).await?;
            audit(
                conn,
                operator,
                &after,
                "converted to the platform's documents",
                Some(&before),
                Some(&after),
            )
            .await?;
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
enum Lock {
    None,
    /// For edits: does not block the engine's foreign-key checks (`FOR KEY SHARE`) when it
    /// inserts ideas for the strategy, so edits and the engine never deadlock.
    Edit,
    /// For deletion, which must exclude new references.
    Delete,
}

async fn fetch(conn: &mut PgConnection, id: Uuid, lock: Lock) -> Result<Strategy, Error> {
    let sql = match lock {
        Lock::None => format!("{SELECT} WHERE id = $1"),
        Lock::Edit => format!("{SELECT} WHERE id = $1 FOR NO KEY UPDATE"),
        Lock::Delete => format!("{SELECT} WHERE id = $1 FOR UPDATE"),
    };
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(Error::Database)?
        .ok_or_else(|| Error::NotFound {
            what: "strategy",
            id: id.to_string(),
        })
}

async fn audit(
    conn: &mut PgConnection,
    operator: &Operator,
    strategy: &Strategy,
    change: &str,
    before: Option<&Strategy>,
    after: Option<&Strategy>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO tradedesk.config_changes (id, changed_at, operator, subject, subject_id, subject_name,
                                     change, before, after)
         VALUES ($1, clock_timestamp(), $2, 'strategy', $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::now_v7())
    .bind(operator.as_str())
    .bind(strategy.id)
    .bind(&strategy.name)
    .bind(change)
    .bind(before.map(Strategy::to_document))
    .bind(after.map(Strategy::to_document))
    .execute(&mut *conn)
    .await
    .map_err(Error::Database)?;
    Ok(())
}
