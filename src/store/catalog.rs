//! What a schema holds, read from PostgreSQL's catalog, and how it differs from another.
//!
//! Used to adopt a database the platform made: its catalog is compared with what
//! tradedesk's Phase-1 migration creates, and any difference refuses the adoption.
//! Definitions are PostgreSQL's own deparsed text (`format_type`, `pg_get_expr`,
//! `pg_get_constraintdef`, `pg_get_indexdef`), so two spellings of the same DDL compare
//! equal and any real difference does not.

use std::collections::BTreeMap;
use std::fmt;

use sqlx::PgConnection;

/// The enum types and tables of one schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Enum type name → labels in their sort order.
    pub enums: BTreeMap<String, Vec<String>>,
    pub tables: BTreeMap<String, Table>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub columns: BTreeMap<String, Column>,
    /// Constraint name → definition.
    pub constraints: BTreeMap<String, String>,
    /// Index name → definition, without the schema name.
    pub indexes: BTreeMap<String, String>,
    /// Trigger name → definition, without the schema name (user triggers only, not the
    /// ones PostgreSQL makes for foreign keys).
    pub triggers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub data_type: String,
    pub not_null: bool,
    pub default: Option<String>,
}

/// One way a database differs from the schema expected of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    MissingEnum(String),
    EnumLabels {
        name: String,
        expected: Vec<String>,
        found: Vec<String>,
    },
    MissingTable(String),
    MissingColumn {
        table: String,
        column: String,
    },
    ColumnType {
        table: String,
        column: String,
        expected: String,
        found: String,
    },
    Nullability {
        table: String,
        column: String,
        expected_not_null: bool,
    },
    ColumnDefault {
        table: String,
        column: String,
        expected: Option<String>,
        found: Option<String>,
    },
    /// A column tradedesk does not know that must be given a value on insert.
    ExtraRequiredColumn {
        table: String,
        column: String,
    },
    MissingConstraint {
        table: String,
        name: String,
    },
    ConstraintDefinition {
        table: String,
        name: String,
        expected: String,
        found: String,
    },
    MissingIndex {
        table: String,
        name: String,
    },
    IndexDefinition {
        table: String,
        name: String,
        expected: String,
        found: String,
    },
}

fn nullability(not_null: bool) -> &'static str {
    if not_null { "NOT NULL" } else { "nullable" }
}

fn or_none(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("no default")
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::MissingEnum(name) => write!(f, "enum type {name} is missing"),
            Mismatch::EnumLabels {
                name,
                expected,
                found,
            } => write!(
                f,
                "enum type {name} has labels ({}) where Phase 1 has ({})",
                found.join(", "),
                expected.join(", ")
            ),
            Mismatch::MissingTable(table) => write!(f, "table {table} is missing"),
            Mismatch::MissingColumn { table, column } => {
                write!(f, "table {table}: column {column} is missing")
            }
            Mismatch::ColumnType {
                table,
                column,
                expected,
                found,
            } => write!(
                f,
                "table {table}: column {column} is {found} where Phase 1 has {expected}"
            ),
            Mismatch::Nullability {
                table,
                column,
                expected_not_null,
            } => write!(
                f,
                "table {table}: column {column} is {} where Phase 1 has it {}",
                nullability(!expected_not_null),
                nullability(*expected_not_null)
            ),
            Mismatch::ColumnDefault {
                table,
                column,
                expected,
                found,
            } => write!(
                f,
                "table {table}: column {column} has default {} where Phase 1 has {}",
                or_none(found),
                or_none(expected)
            ),
            Mismatch::ExtraRequiredColumn { table, column } => write!(
                f,
                "table {table}: column {column} is not in Phase 1 and is NOT NULL without a \
                 default, so rows written by tradedesk would be refused"
            ),
            Mismatch::MissingConstraint { table, name } => {
                write!(f, "table {table}: constraint {name} is missing")
            }
            Mismatch::ConstraintDefinition {
                table,
                name,
                expected,
                found,
            } => write!(
                f,
                "table {table}: constraint {name} is `{found}` where Phase 1 has `{expected}`"
            ),
            Mismatch::MissingIndex { table, name } => {
                write!(f, "table {table}: index {name} is missing")
            }
            Mismatch::IndexDefinition {
                table,
                name,
                expected,
                found,
            } => write!(
                f,
                "table {table}: index {name} is `{found}` where Phase 1 has `{expected}`"
            ),
        }
    }
}

const ENUMS: &str = "SELECT t.typname::text, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
                       FROM pg_type t
                       JOIN pg_enum e ON e.enumtypid = t.oid
                       JOIN pg_namespace n ON n.oid = t.typnamespace
                      WHERE n.nspname = $1
                      GROUP BY t.typname";

const TABLES: &str = "SELECT c.relname::text FROM pg_class c
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')";

const COLUMNS: &str =
    "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
                              a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
                         FROM pg_attribute a
                         JOIN pg_class c ON c.oid = a.attrelid
                         JOIN pg_namespace n ON n.oid = c.relnamespace
                         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
                          AND a.attnum > 0 AND NOT a.attisdropped";

const CONSTRAINTS: &str = "SELECT c.relname::text, con.conname::text, pg_get_constraintdef(con.oid)
                             FROM pg_constraint con
                             JOIN pg_class c ON c.oid = con.conrelid
                             JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')";

const INDEXES: &str = "SELECT c.relname::text, i.relname::text, pg_get_indexdef(i.oid)
                         FROM pg_index x
                         JOIN pg_class i ON i.oid = x.indexrelid
                         JOIN pg_class c ON c.oid = x.indrelid
                         JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')";

const TRIGGERS: &str = "SELECT c.relname::text, t.tgname::text, pg_get_triggerdef(t.oid)
                          FROM pg_trigger t
                          JOIN pg_class c ON c.oid = t.tgrelid
                          JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT t.tgisinternal";

/// (table, name, definition) rows of one of the queries above, for `schema`.
async fn named(
    conn: &mut PgConnection,
    sql: &str,
    schema: &str,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(sql).bind(schema).fetch_all(&mut *conn).await
}

/// `"name"` quoted as an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Catalog {
    /// Reads the enum types and ordinary tables of `schema`.
    ///
    /// Must run inside a transaction: it sets `search_path` to `schema` for that
    /// transaction, so that type and table names deparse unqualified whichever schema is
    /// read, and two schemas holding the same DDL read as equal catalogs.
    pub async fn read(conn: &mut PgConnection, schema: &str) -> Result<Catalog, sqlx::Error> {
        sqlx::query("SELECT set_config('search_path', $1, true)")
            .bind(format!("{}, pg_catalog", quote_ident(schema)))
            .execute(&mut *conn)
            .await?;
        let mut catalog = Catalog::default();
        let enums: Vec<(String, Vec<String>)> = sqlx::query_as(ENUMS)
            .bind(schema)
            .fetch_all(&mut *conn)
            .await?;
        catalog.enums.extend(enums);
        let tables: Vec<(String,)> = sqlx::query_as(TABLES)
            .bind(schema)
            .fetch_all(&mut *conn)
            .await?;
        for (table,) in tables {
            catalog.tables.insert(table, Table::default());
        }
        let columns: Vec<(String, String, String, bool, Option<String>)> = sqlx::query_as(COLUMNS)
            .bind(schema)
            .fetch_all(&mut *conn)
            .await?;
        for (table, column, data_type, not_null, default) in columns {
            let column_def = Column {
                data_type,
                not_null,
                default,
            };
            catalog.table_mut(table).columns.insert(column, column_def);
        }
        // pg_get_indexdef and pg_get_triggerdef always qualify the table; drop the schema
        // to compare across schemas.
        let qualified = [
            format!(" ON {schema}."),
            format!(" ON {}.", quote_ident(schema)),
        ];
        let unqualify = |definition: String| {
            qualified
                .iter()
                .fold(definition, |def, q| def.replacen(q.as_str(), " ON ", 1))
        };
        for (table, name, definition) in named(conn, CONSTRAINTS, schema).await? {
            catalog
                .table_mut(table)
                .constraints
                .insert(name, definition);
        }
        for (table, name, definition) in named(conn, INDEXES, schema).await? {
            let definition = unqualify(definition);
            catalog.table_mut(table).indexes.insert(name, definition);
        }
        for (table, name, definition) in named(conn, TRIGGERS, schema).await? {
            let definition = unqualify(definition);
            catalog.table_mut(table).triggers.insert(name, definition);
        }
        Ok(catalog)
    }

    fn table_mut(&mut self, name: String) -> &mut Table {
        self.tables.entry(name).or_default()
    }

    /// This catalog without the named tables (bookkeeping tables such as
    /// `_sqlx_migrations` or `alembic_version`).
    pub fn without_tables(mut self, names: &[&str]) -> Self {
        self.tables
            .retain(|name, _| !names.contains(&name.as_str()));
        self
    }

    /// Whether any of this catalog's tables exist in `other`.
    pub fn shares_tables_with(&self, other: &Catalog) -> bool {
        self.tables.keys().any(|t| other.tables.contains_key(t))
    }

    /// Every way `actual` fails to hold what this catalog holds. Additions in `actual`
    /// (tables, columns, indexes, constraints) are allowed, since later revisions of the
    /// platform may add them, unless they would make tradedesk's own writes fail.
    pub fn mismatches(&self, actual: &Catalog) -> Vec<Mismatch> {
        let mut out = Vec::new();
        for (name, labels) in &self.enums {
            match actual.enums.get(name) {
                None => out.push(Mismatch::MissingEnum(name.clone())),
                Some(found) if found != labels => out.push(Mismatch::EnumLabels {
                    name: name.clone(),
                    expected: labels.clone(),
                    found: found.clone(),
                }),
                Some(_) => {}
            }
        }
        for (table_name, expected) in &self.tables {
            let Some(found) = actual.tables.get(table_name) else {
                out.push(Mismatch::MissingTable(table_name.clone()));
                continue;
            };
            expected.mismatches(table_name, found, &mut out);
        }
        out
    }
}

impl Table {
    fn mismatches(&self, table: &str, found: &Table, out: &mut Vec<Mismatch>) {
        let t = || table.to_string();
        for (name, column) in &self.columns {
            let Some(actual) = found.columns.get(name) else {
                out.push(Mismatch::MissingColumn {
                    table: t(),
                    column: name.clone(),
                });
                continue;
            };
            if actual.data_type != column.data_type {
                out.push(Mismatch::ColumnType {
                    table: t(),
                    column: name.clone(),
                    expected: column.data_type.clone(),
                    found: actual.data_type.clone(),
                });
            }
            if actual.not_null != column.not_null {
                out.push(Mismatch::Nullability {
                    table: t(),
                    column: name.clone(),
                    expected_not_null: column.not_null,
                });
            }
            if actual.default != column.default {
                out.push(Mismatch::ColumnDefault {
                    table: t(),
                    column: name.clone(),
                    expected: column.default.clone(),
                    found: actual.default.clone(),
                });
            }
        }
        for (name, column) in &found.columns {
            if !self.columns.contains_key(name) && column.not_null && column.default.is_none() {
                out.push(Mismatch::ExtraRequiredColumn {
                    table: t(),
                    column: name.clone(),
                });
            }
        }
        for (name, definition) in &self.constraints {
            match found.constraints.get(name) {
                None => out.push(Mismatch::MissingConstraint {
                    table: t(),
                    name: name.clone(),
                }),
                Some(actual) if actual != definition => out.push(Mismatch::ConstraintDefinition {
                    table: t(),
                    name: name.clone(),
                    expected: definition.clone(),
                    found: actual.clone(),
                }),
                Some(_) => {}
            }
        }
        for (name, definition) in &self.indexes {
            match found.indexes.get(name) {
                None => out.push(Mismatch::MissingIndex {
                    table: t(),
                    name: name.clone(),
                }),
                Some(actual) if actual != definition => out.push(Mismatch::IndexDefinition {
                    table: t(),
                    name: name.clone(),
                    expected: definition.clone(),
                    found: actual.clone(),
                }),
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(data_type: &str, not_null: bool, default: Option<&str>) -> Column {
        Column {
            data_type: data_type.into(),
            not_null,
            default: default.map(Into::into),
        }
    }

    fn ideas_catalog() -> Catalog {
        let mut table = Table::default();
        table
            .columns
            .insert("id".into(), column("uuid", true, None));
        table.columns.insert(
            "confidence_score".into(),
            column("numeric(5,2)", true, None),
        );
        table
            .constraints
            .insert("trade_ideas_pkey".into(), "PRIMARY KEY (id)".into());
        table.indexes.insert(
            "idx_trade_ideas_status".into(),
            "CREATE INDEX idx_trade_ideas_status ON trade_ideas USING btree (status)".into(),
        );
        let mut catalog = Catalog::default();
        catalog.tables.insert("trade_ideas".into(), table);
        catalog
            .enums
            .insert("tradeideastatus".into(), vec!["waiting".into()]);
        catalog
    }

    #[test]
    fn identical_catalogs_do_not_mismatch() {
        assert!(ideas_catalog().mismatches(&ideas_catalog()).is_empty());
    }

    #[test]
    fn each_difference_is_named() {
        let expected = ideas_catalog();
        let mut actual = expected.clone();
        let table = actual.tables.get_mut("trade_ideas").unwrap();
        table.columns.get_mut("confidence_score").unwrap().data_type = "double precision".into();
        table.indexes.clear();
        table
            .columns
            .insert("desk".into(), column("text", true, None));
        actual.enums.insert("tradeideastatus".into(), vec![]);
        let found: Vec<String> = expected
            .mismatches(&actual)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            vec![
                "enum type tradeideastatus has labels () where Phase 1 has (waiting)",
                "table trade_ideas: column confidence_score is double precision where Phase 1 has numeric(5,2)",
                "table trade_ideas: column desk is not in Phase 1 and is NOT NULL without a default, so rows written by tradedesk would be refused",
                "table trade_ideas: index idx_trade_ideas_status is missing",
            ]
        );
    }

    #[test]
    fn additions_that_do_not_break_writes_are_allowed() {
        let expected = ideas_catalog();
        let mut actual = expected.clone();
        let table = actual.tables.get_mut("trade_ideas").unwrap();
        table
            .columns
            .insert("note".into(), column("text", false, None));
        table
            .columns
            .insert("desk".into(), column("text", true, Some("'main'::text")));
        actual
            .tables
            .insert("platform_extra".into(), Table::default());
        assert!(expected.mismatches(&actual).is_empty());
    }
}
