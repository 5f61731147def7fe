//! The tamper-evident audit (migration 7): `decision_history` and
//! `tradedesk.config_changes` are each a hash chain, and [`verify`] walks both.
//!
//! Every row carries `audit_seq` (1, 2, 3… in the order rows were chained, without gaps)
//! and `audit_hash`: linked by a BEFORE INSERT trigger after the head it reads, and
//! confirmed (or re-linked) at commit under the row lock of the table's head in
//! `tradedesk.audit_heads`:
//!
//! ```text
//! digest(n) = sha256(UTF-8 of the canonical text of row n)
//! hash(n)   = sha256(hash(n-1) || digest(n)),  hash(0) = 32 zero bytes
//! ```
//!
//! The canonical text is a list of fields, `<length in characters>:<value>,` each, `-,`
//! for NULL: the table's name, the seq, then every column (see [`Chain::columns`] and the
//! migration, which defines it in SQL). Values: uuids in lower-case hyphenated form,
//! timestamps as microseconds since 1970-01-01 UTC (`infinity`, `-infinity`), numerics as
//! PostgreSQL prints them with their scale (`92.50`), booleans `true`/`false`, text and
//! enum labels as they are, jsonb as PostgreSQL prints it. Here it is rebuilt from the
//! columns as PostgreSQL sends them in binary: what is hashed is what the server stores,
//! with no conversion in between that could drift.
//!
//! What verify says: a row whose hash does not follow from the hash before it and its own
//! columns was **changed** (an UPDATE made with the triggers disabled, or a forged hash); a
//! seq missing from the chain, or rows missing before the recorded head, were **deleted**;
//! a row without a seq or hash, one beyond the head, or one before the archive's boundary
//! was **inserted out of band**. Archiving (migration 3's retention path) removes a prefix
//! of the chain and moves its boundary (`archived_seq`, `archived_hash`): the chain verifies
//! from there. A superuser can rewrite every row *and* every hash *and* the head
//! consistently; only a head kept elsewhere ([`head`], then [`verify`] with it) catches
//! that, so keep one. A kept head inside rows archived since cannot be checked against the
//! database and fails verify too.

use futures::TryStreamExt as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use sqlx::postgres::PgRow;
use sqlx::{Acquire as _, PgConnection, Row as _, ValueRef as _};
use uuid::Uuid;

use super::Store;

/// hash(0): what the first row of a chain follows.
pub const GENESIS: [u8; 32] = [0; 32];

/// Rows read per query while walking a chain (a keyset window on `audit_seq`).
pub const WINDOW: i64 = 20_000;

/// A table kept as a hash chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    DecisionHistory,
    ConfigChanges,
}

/// How a column's value is written in the canonical text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Uuid,
    Time,
    Text,
    Numeric,
    Bool,
    Jsonb,
}

impl Chain {
    pub const ALL: [Chain; 2] = [Chain::DecisionHistory, Chain::ConfigChanges];

    /// The table's name, as `audit_heads.chained_table` and the canonical text hold it.
    pub fn as_str(self) -> &'static str {
        match self {
            Chain::DecisionHistory => "decision_history",
            Chain::ConfigChanges => "config_changes",
        }
    }

    pub fn parse(name: &str) -> Option<Chain> {
        Chain::ALL.into_iter().find(|c| c.as_str() == name)
    }

    fn relation(self) -> &'static str {
        match self {
            Chain::DecisionHistory => "public.decision_history",
            Chain::ConfigChanges => "tradedesk.config_changes",
        }
    }

    /// The columns the chain covers, in the order of the canonical text (after the
    /// table's name and the seq), with how each is written. Every column of the
    /// platform's schema (docs/platform.md §1) and of tradedesk's additions, but the
    /// chain's own two.
    pub fn columns(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Chain::DecisionHistory => &[
                ("id", "uuid"),
                ("occurred_at", "timestamptz"),
                ("symbol", "text"),
                ("action", "decisionaction"),
                ("rationale", "text"),
                ("confidence_score", "numeric"),
                ("risk_check_result", "text"),
                ("strategy_id", "uuid"),
                ("trade_idea_id", "uuid"),
                ("snapshot_ref", "uuid"),
                ("human_override", "boolean"),
                ("operator", "text"),
            ],
            Chain::ConfigChanges => &[
                ("id", "uuid"),
                ("changed_at", "timestamptz"),
                ("operator", "text"),
                ("subject", "text"),
                ("subject_id", "uuid"),
                ("subject_name", "text"),
                ("change", "text"),
                ("before", "jsonb"),
                ("after", "jsonb"),
            ],
        }
    }

    fn kinds(self) -> &'static [Kind] {
        use Kind::*;
        match self {
            Chain::DecisionHistory => &[
                Uuid, Time, Text, Text, Text, Numeric, Text, Uuid, Uuid, Uuid, Bool, Text,
            ],
            Chain::ConfigChanges => &[Uuid, Time, Text, Text, Uuid, Text, Text, Jsonb, Jsonb],
        }
    }

    /// The time column rows without a seq are listed by.
    fn time_column(self) -> &'static str {
        match self {
            Chain::DecisionHistory => "occurred_at",
            Chain::ConfigChanges => "changed_at",
        }
    }

    /// `audit_seq, audit_hash, <the columns>`; an enum is read as its label.
    fn select_list(self) -> String {
        let columns: Vec<String> = self
            .columns()
            .iter()
            .map(|(name, ty)| match *ty {
                "decisionaction" => format!("{name}::text"),
                _ => (*name).to_string(),
            })
            .collect();
        format!("audit_seq, audit_hash, {}", columns.join(", "))
    }
}

impl std::fmt::Display for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A point of a chain: the row at `seq` has `hash` (lower-case hex). Printed and read
/// back as `TABLE:SEQ:HASH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Head {
    pub table: Chain,
    pub seq: i64,
    pub hash: String,
}

impl Head {
    /// Reads `TABLE:SEQ:HASH`, as [`Head`]'s `Display` writes it.
    pub fn parse(text: &str) -> Result<Head, AuditError> {
        let bad = || AuditError::BadHead(text.to_string());
        let mut parts = text.trim().splitn(3, ':');
        let (Some(table), Some(seq), Some(hash)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let table = Chain::parse(table).ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        let hash = hash.to_ascii_lowercase();
        if seq < 0 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Head { table, seq, hash })
    }
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.table, self.seq, self.hash)
    }
}

/// What is wrong with a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tamper {
    /// The row's hash does not follow from the row before it and its own columns: it was
    /// changed (or a hash was forged, or the chain rewritten since a head kept elsewhere).
    Changed,
    /// Rows of the chain are missing: a gap in the seqs, rows missing before the recorded
    /// head, or a head kept elsewhere beyond the chain's end.
    Deleted,
    /// A row that was not chained by the trigger: without a seq or hash, beyond the head,
    /// or before the archive's boundary.
    OutOfBand,
}

impl Tamper {
    pub fn as_str(self) -> &'static str {
        match self {
            Tamper::Changed => "changed",
            Tamper::Deleted => "deleted",
            Tamper::OutOfBand => "inserted out of band",
        }
    }
}

/// The first thing wrong with a chain, in chain order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: Tamper,
    /// The seq of the row (for a deletion: the first missing seq).
    pub seq: Option<i64>,
    /// The row, when it is there to name.
    pub id: Option<Uuid>,
    /// One sentence.
    pub detail: String,
}

/// One chain, walked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub table: Chain,
    /// Rows whose hash was recomputed and found right (up to the problem, if any).
    pub rows: u64,
    /// The head as `tradedesk.audit_heads` records it.
    pub head: Option<Head>,
    /// Where archiving left the chain (the last row archived), if it removed any.
    pub archived: Option<Head>,
    pub problem: Option<Problem>,
    /// Heads kept elsewhere that could not be checked (archived since): a problem too.
    pub unchecked: Vec<Head>,
}

impl Verified {
    pub fn intact(&self) -> bool {
        self.problem.is_none()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),

    #[error("{table} row {id} (seq {seq}) cannot be read for its hash: {reason}")]
    Unreadable {
        table: Chain,
        seq: i64,
        id: String,
        reason: String,
    },

    #[error(
        "a kept head reads TABLE:SEQ:HASH as `tradedesk audit head` prints it \
         (e.g. decision_history:42:<64 hex digits>), not {0:?}"
    )]
    BadHead(String),
}

/// The head of each chain, as `tradedesk.audit_heads` records it now: keep it somewhere
/// the database's superusers cannot write, and give it to [`verify`] later.
pub async fn head(store: &Store) -> Result<Vec<Head>, AuditError> {
    let mut conn = store.pool().acquire().await?;
    let mut heads = Vec::new();
    for chain in Chain::ALL {
        if let Some(state) = read_head(&mut conn, chain).await? {
            heads.push(state.head(chain));
        }
    }
    Ok(heads)
}

/// Walks both chains in one snapshot and names, for each, the first row changed, deleted
/// or inserted out of band. `kept` are heads printed by [`head`] earlier: each must still
/// be a point of its chain (or be archived since).
pub async fn verify(store: &Store, kept: &[Head]) -> Result<Vec<Verified>, AuditError> {
    verify_windowed(store, kept, WINDOW).await
}

/// [`verify`], reading `window` rows per query.
pub async fn verify_windowed(
    store: &Store,
    kept: &[Head],
    window: i64,
) -> Result<Vec<Verified>, AuditError> {
    let mut tx = store.pool().begin().await?;
    let conn = tx.acquire().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *conn)
        .await?;
    let mut verified = Vec::new();
    for chain in Chain::ALL {
        let mine: Vec<&Head> = kept.iter().filter(|h| h.table == chain).collect();
        verified.push(verify_chain(conn, chain, &mine, window.max(1)).await?);
    }
    tx.commit().await?;
    Ok(verified)
}

/// A row of `tradedesk.audit_heads`.
#[derive(Debug, Clone, sqlx::FromRow)]
struct HeadRow {
    last_seq: i64,
    last_hash: Vec<u8>,
    archived_seq: i64,
    archived_hash: Vec<u8>,
}

impl HeadRow {
    fn head(&self, table: Chain) -> Head {
        Head {
            table,
            seq: self.last_seq,
            hash: hex(&self.last_hash),
        }
    }

    fn archived(&self, table: Chain) -> Option<Head> {
        (self.archived_seq > 0).then(|| Head {
            table,
            seq: self.archived_seq,
            hash: hex(&self.archived_hash),
        })
    }
}

async fn read_head(conn: &mut PgConnection, chain: Chain) -> Result<Option<HeadRow>, AuditError> {
    Ok(sqlx::query_as(
        "SELECT last_seq, last_hash, archived_seq, archived_hash
           FROM tradedesk.audit_heads WHERE chained_table = $1",
    )
    .bind(chain.as_str())
    .fetch_optional(&mut *conn)
    .await?)
}

async fn verify_chain(
    conn: &mut PgConnection,
    chain: Chain,
    kept: &[&Head],
    window: i64,
) -> Result<Verified, AuditError> {
    let Some(state) = read_head(conn, chain).await? else {
        return Ok(Verified {
            table: chain,
            rows: 0,
            head: None,
            archived: None,
            problem: Some(Problem {
                kind: Tamper::Deleted,
                seq: None,
                id: None,
                detail: "its head is missing from tradedesk.audit_heads, so nothing says where \
                         the chain ends"
                    .to_string(),
            }),
            unchecked: Vec::new(),
        });
    };
    let mut verified = Verified {
        table: chain,
        rows: 0,
        head: Some(state.head(chain)),
        archived: state.archived(chain),
        problem: None,
        unchecked: Vec::new(),
    };
    let mut walk = Walk::new(chain, &state, kept);
    verified.unchecked = walk.unchecked.clone();
    verified.problem = find_problem(conn, chain, &state, &mut walk, window).await?;
    verified.rows = walk.rows;
    Ok(verified)
}

/// The first problem in chain order: rows before the boundary, then the walk, then the
/// end of the chain against its head and the kept heads, then rows without a seq.
async fn find_problem(
    conn: &mut PgConnection,
    chain: Chain,
    state: &HeadRow,
    walk: &mut Walk,
    window: i64,
) -> Result<Option<Problem>, AuditError> {
    let relation = chain.relation();
    if state.archived_seq > 0 {
        let before: Option<(Uuid, i64)> = sqlx::query_as(&format!(
            "SELECT id, audit_seq FROM {relation} WHERE audit_seq <= $1 ORDER BY audit_seq LIMIT 1"
        ))
        .bind(state.archived_seq)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((id, seq)) = before {
            return Ok(Some(Problem {
                kind: Tamper::OutOfBand,
                seq: Some(seq),
                id: Some(id),
                detail: format!(
                    "row {id} has seq {seq}, at or before the archive's boundary (seq \
                     {}): it was written back behind the chain's triggers",
                    state.archived_seq
                ),
            }));
        }
    }

    let sql = format!(
        "SELECT {} FROM {relation} WHERE (audit_seq, id) > ($1, $2)
          ORDER BY audit_seq, id LIMIT $3",
        chain.select_list()
    );
    // Keyset on (seq, id), so that a seq written twice is met at a window's edge too.
    let mut after = (state.archived_seq, Uuid::max());
    loop {
        let mut read = 0;
        let mut rows = sqlx::query(&sql)
            .bind(after.0)
            .bind(after.1)
            .bind(window)
            .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            read += 1;
            if let Some(problem) = walk.step(&row)? {
                return Ok(Some(problem));
            }
        }
        drop(rows);
        if read < window {
            break;
        }
        after = (walk.next_seq - 1, walk.last_id.unwrap_or(Uuid::max()));
    }
    if let Some(problem) = walk.finish() {
        return Ok(Some(problem));
    }
    // A kept head inside what was archived since cannot be checked here; passing it over
    // would let a chain rewritten whole behind a moved boundary pass.
    if let Some(head) = walk.unchecked.first() {
        return Ok(Some(Problem {
            kind: Tamper::Deleted,
            seq: Some(head.seq),
            id: None,
            detail: format!(
                "the kept head at seq {} lies in rows archived since (up to seq {}): the \
                 database alone cannot show the chain still passes through it; check it \
                 against the archive",
                head.seq, state.archived_seq
            ),
        }));
    }

    let unchained: Option<(Uuid, i64)> = sqlx::query_as(&format!(
        "SELECT id, count(*) OVER () FROM {relation} WHERE audit_seq IS NULL OR audit_hash IS NULL
          ORDER BY {}, id LIMIT 1",
        chain.time_column()
    ))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(unchained.map(|(id, count)| Problem {
        kind: Tamper::OutOfBand,
        seq: None,
        id: Some(id),
        detail: format!(
            "row {id} has no seq: it was inserted with the chain's trigger \
             disabled{}",
            if count > 1 {
                format!(" ({} such rows, this the oldest)", count)
            } else {
                String::new()
            }
        ),
    }))
}

/// The walk of a chain in seq order: what the next row must be, and the hash it follows.
struct Walk {
    chain: Chain,
    next_seq: i64,
    previous: [u8; 32],
    last_seq: i64,
    last_hash: Vec<u8>,
    last_id: Option<Uuid>,
    /// Kept heads still to meet on the way, by seq.
    kept: Vec<(i64, String)>,
    unchecked: Vec<Head>,
    rows: u64,
    canonical: Vec<u8>,
    scratch: Vec<u8>,
}

impl Walk {
    fn new(chain: Chain, state: &HeadRow, kept: &[&Head]) -> Walk {
        let previous = <[u8; 32]>::try_from(state.archived_hash.as_slice()).unwrap_or([0xff; 32]);
        let mut on_the_way = Vec::new();
        let mut unchecked = Vec::new();
        for head in kept {
            if head.seq < state.archived_seq {
                unchecked.push((*head).clone());
            } else {
                on_the_way.push((head.seq, head.hash.clone()));
            }
        }
        on_the_way.sort();
        Walk {
            chain,
            next_seq: state.archived_seq + 1,
            previous,
            last_seq: state.last_seq,
            last_hash: state.last_hash.clone(),
            last_id: None,
            kept: on_the_way,
            unchecked,
            rows: 0,
            canonical: Vec::with_capacity(512),
            scratch: Vec::with_capacity(64),
        }
    }

    /// The kept heads at the point the walk has reached (seq `next_seq - 1`).
    fn check_kept(&mut self) -> Option<Problem> {
        let here = self.next_seq - 1;
        while let Some((seq, hash)) = self.kept.first().cloned() {
            if seq > here {
                break;
            }
            self.kept.remove(0);
            if hex(&self.previous) != hash {
                return Some(Problem {
                    kind: Tamper::Changed,
                    seq: Some(seq),
                    id: self.last_id.filter(|_| seq == here),
                    detail: format!(
                        "the chain was rewritten: seq {seq} no longer has the hash of the head \
                         kept earlier ({hash})"
                    ),
                });
            }
        }
        None
    }

    fn step(&mut self, row: &PgRow) -> Result<Option<Problem>, AuditError> {
        let chain = self.chain;
        let seq: i64 = row.try_get(0)?;
        let hash: Option<Vec<u8>> = row.try_get(1)?;
        let id: Uuid = row.try_get(2)?;
        if let Some(problem) = self.check_kept() {
            return Ok(Some(problem));
        }
        if seq > self.last_seq {
            if self.next_seq <= self.last_seq {
                return Ok(Some(self.missing_up_to_head()));
            }
            return Ok(Some(Problem {
                kind: Tamper::OutOfBand,
                seq: Some(seq),
                id: Some(id),
                detail: format!(
                    "row {id} has seq {seq}, beyond the chain's head (seq {}): it was \
                     written behind the chain's triggers",
                    self.last_seq
                ),
            }));
        }
        if seq < self.next_seq {
            return Ok(Some(Problem {
                kind: Tamper::OutOfBand,
                seq: Some(seq),
                id: Some(id),
                detail: format!(
                    "row {id} repeats seq {seq}, which another row of the chain holds: it \
                     was written behind the chain's triggers"
                ),
            }));
        }
        if seq != self.next_seq {
            let first = self.next_seq;
            let gap = if seq - 1 > first {
                format!("seqs {first} to {} are", seq - 1)
            } else {
                format!("seq {first} is")
            };
            return Ok(Some(Problem {
                kind: Tamper::Deleted,
                seq: Some(first),
                id: None,
                detail: format!(
                    "{gap} missing from the chain, before row {id} (seq {seq}): \
                     deleted with the triggers disabled"
                ),
            }));
        }
        let Some(hash) = hash else {
            return Ok(Some(Problem {
                kind: Tamper::Changed,
                seq: Some(seq),
                id: Some(id),
                detail: format!("row {id} (seq {seq}) has lost its hash"),
            }));
        };
        self.canonical(row, seq)
            .map_err(|reason| AuditError::Unreadable {
                table: chain,
                seq,
                id: id.to_string(),
                reason,
            })?;
        let digest = Sha256::digest(&self.canonical);
        let mut link = Sha256::new();
        link.update(self.previous);
        link.update(digest);
        let computed: [u8; 32] = link.finalize().into();
        if computed.as_slice() != hash.as_slice() {
            return Ok(Some(Problem {
                kind: Tamper::Changed,
                seq: Some(seq),
                id: Some(id),
                detail: format!(
                    "row {id} (seq {seq}) does not match its hash: the row was changed \
                     (or its hash, or the one before it)"
                ),
            }));
        }
        self.previous = computed;
        self.next_seq += 1;
        self.last_id = Some(id);
        self.rows += 1;
        Ok(None)
    }

    fn missing_up_to_head(&self) -> Problem {
        let first = self.next_seq;
        let rows = if self.last_seq > first {
            format!("seqs {first} to {} are", self.last_seq)
        } else {
            format!("seq {first} is")
        };
        Problem {
            kind: Tamper::Deleted,
            seq: Some(first),
            id: None,
            detail: format!(
                "{rows} missing: the chain's head is seq {}, so rows before it were deleted \
                 with the triggers disabled",
                self.last_seq
            ),
        }
    }

    /// After the last row: the chain must end at its head, with the head's hash, and pass
    /// every kept head.
    fn finish(&mut self) -> Option<Problem> {
        if let Some(problem) = self.check_kept() {
            return Some(problem);
        }
        if self.next_seq <= self.last_seq {
            return Some(self.missing_up_to_head());
        }
        if self.previous.as_slice() != self.last_hash.as_slice() {
            return Some(Problem {
                kind: Tamper::Changed,
                seq: Some(self.last_seq),
                id: self.last_id,
                detail: format!(
                    "seq {} does not have the hash its head records: the row was changed and \
                     its hash recomputed, or the head was moved",
                    self.last_seq
                ),
            });
        }
        if let Some((seq, hash)) = self.kept.first() {
            return Some(Problem {
                kind: Tamper::Deleted,
                seq: Some(self.last_seq + 1),
                id: None,
                detail: format!(
                    "the chain ends at seq {}, but a head kept earlier names seq {seq} \
                     ({hash}): rows were deleted and the head moved back",
                    self.last_seq
                ),
            });
        }
        None
    }

    /// The row's canonical text, into `self.canonical`.
    fn canonical(&mut self, row: &PgRow, seq: i64) -> Result<(), String> {
        let out = &mut self.canonical;
        out.clear();
        field(out, Some(self.chain.as_str().as_bytes()));
        self.scratch.clear();
        push_int(&mut self.scratch, i128::from(seq));
        field(out, Some(&self.scratch));
        for (n, kind) in self.chain.kinds().iter().enumerate() {
            let value = row.try_get_raw(n + 2).map_err(|e| e.to_string())?;
            if value.is_null() {
                out.extend_from_slice(b"-,");
                continue;
            }
            let raw = value.as_bytes().map_err(|e| e.to_string())?;
            let name = self.chain.columns()[n].0;
            match kind {
                Kind::Text => field(out, Some(raw)),
                Kind::Jsonb => match raw.split_first() {
                    Some((1, text)) => field(out, Some(text)),
                    _ => return Err(format!("{name} is not jsonb version 1")),
                },
                _ => {
                    self.scratch.clear();
                    let written = match kind {
                        Kind::Uuid => uuid_text(raw, &mut self.scratch),
                        Kind::Time => time_text(raw, &mut self.scratch),
                        Kind::Numeric => numeric_text(raw, &mut self.scratch),
                        _ => bool_text(raw, &mut self.scratch),
                    };
                    written.map_err(|e| format!("{name}: {e}"))?;
                    field(out, Some(&self.scratch));
                }
            }
        }
        Ok(())
    }
}

/// `<characters>:<value>,`, or `-,` for NULL. `value` is UTF-8 (as PostgreSQL sends text
/// to tradedesk), and its characters are its bytes that do not continue a character.
fn field(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        None => out.extend_from_slice(b"-,"),
        Some(value) => {
            let chars = value.iter().filter(|&&b| (b as i8) >= -0x40).count();
            push_int(out, chars as i128);
            out.push(b':');
            out.extend_from_slice(value);
            out.push(b',');
        }
    }
}

fn push_int(out: &mut Vec<u8>, n: i128) {
    use std::io::Write as _;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{n}");
}

fn uuid_text(raw: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let bytes: [u8; 16] = raw.try_into().map_err(|_| "not a uuid".to_string())?;
    let mut text = [0u8; 36];
    Uuid::from_bytes(bytes).hyphenated().encode_lower(&mut text);
    out.extend_from_slice(&text);
    Ok(())
}

/// PostgreSQL's microseconds since 2000-01-01 as microseconds since 1970-01-01.
fn time_text(raw: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    const UNIX_TO_POSTGRES_MICROS: i128 = 946_684_800_000_000;
    let micros = i64::from_be_bytes(raw.try_into().map_err(|_| "not a timestamp".to_string())?);
    match micros {
        i64::MAX => out.extend_from_slice(b"infinity"),
        i64::MIN => out.extend_from_slice(b"-infinity"),
        m => push_int(out, i128::from(m) + UNIX_TO_POSTGRES_MICROS),
    }
    Ok(())
}

fn bool_text(raw: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    match raw {
        [0] => out.extend_from_slice(b"false"),
        [_] => out.extend_from_slice(b"true"),
        _ => return Err("not a boolean".into()),
    }
    Ok(())
}

/// A numeric in PostgreSQL's binary form (digit count, weight, sign, display scale, then
/// base-10 000 digits) as `numeric_out` prints it: every digit of the integer part, then
/// exactly the display scale's digits after the point.
fn numeric_text(raw: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let word = |at: usize| -> Result<u16, String> {
        raw.get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a truncated numeric".to_string())
    };
    let ndigits = word(0)? as i16;
    let weight = i32::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = i32::from(word(6)?);
    if ndigits < 0 || raw.len() != 8 + 2 * ndigits as usize {
        return Err("a numeric of the wrong length".into());
    }
    let digit = |d: i32| -> u16 {
        if d >= 0 && d < i32::from(ndigits) {
            let at = 8 + 2 * d as usize;
            u16::from_be_bytes([raw[at], raw[at + 1]])
        } else {
            0
        }
    };
    match sign {
        0x0000 => {}
        0x4000 => out.push(b'-'),
        0xC000 => {
            out.extend_from_slice(b"NaN");
            return Ok(());
        }
        0xD000 => {
            out.extend_from_slice(b"Infinity");
            return Ok(());
        }
        0xF000 => {
            out.extend_from_slice(b"-Infinity");
            return Ok(());
        }
        _ => return Err(format!("a numeric with sign {sign:#06x}")),
    }
    if weight < 0 {
        out.push(b'0');
    } else {
        for d in 0..=weight {
            let dig = digit(d);
            if dig > 9999 {
                return Err("a numeric digit over 9999".into());
            }
            if d == 0 {
                push_int(out, i128::from(dig));
            } else {
                out.extend_from_slice(&four_digits(dig));
            }
        }
    }
    if dscale > 0 {
        out.push(b'.');
        let mut left = dscale;
        let mut d = weight + 1;
        while left > 0 {
            let group = four_digits(digit(d));
            let take = left.min(4) as usize;
            out.extend_from_slice(&group[..take]);
            left -= take as i32;
            d += 1;
        }
    }
    Ok(())
}

fn four_digits(dig: u16) -> [u8; 4] {
    [
        b'0' + (dig / 1000 % 10) as u8,
        b'0' + (dig / 100 % 10) as u8,
        b'0' + (dig / 10 % 10) as u8,
        b'0' + (dig % 10) as u8,
    ]
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(DIGITS[usize::from(b >> 4)] as char);
        text.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(ndigits: i16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> String {
        let mut raw = Vec::new();
        for w in [ndigits as u16, weight as u16, sign, dscale] {
            raw.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            raw.extend_from_slice(&d.to_be_bytes());
        }
        let mut out = Vec::new();
        numeric_text(&raw, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numerics_print_as_postgresql_prints_them() {
        assert_eq!(numeric(2, 0, 0, 2, &[92, 5000]), "92.50");
        assert_eq!(numeric(0, 0, 0, 2, &[]), "0.00");
        assert_eq!(numeric(0, 0, 0, 0, &[]), "0");
        assert_eq!(numeric(1, -1, 0x4000, 2, &[1000]), "-0.10");
        assert_eq!(numeric(2, 1, 0, 0, &[1, 2]), "10002");
        assert_eq!(numeric(1, 1, 0, 3, &[12]), "120000.000");
        assert_eq!(numeric(1, -2, 0, 6, &[1200]), "0.000012");
        assert_eq!(numeric(1, 0, 0, 1, &[7]), "7.0");
        assert_eq!(numeric(0, 0, 0xC000, 0, &[]), "NaN");
        assert_eq!(numeric(0, 0, 0xF000, 0, &[]), "-Infinity");
    }

    #[test]
    fn fields_count_characters_and_tell_null_from_empty() {
        let mut out = Vec::new();
        field(&mut out, Some("é,1:".as_bytes()));
        field(&mut out, Some(b""));
        field(&mut out, None);
        assert_eq!(String::from_utf8(out).unwrap(), "4:é,1:,0:,-,");
    }

    #[test]
    fn times_are_microseconds_since_1970() {
        let mut out = Vec::new();
        time_text(&0i64.to_be_bytes(), &mut out).unwrap();
        assert_eq!(out, b"946684800000000");
        out.clear();
        time_text(&i64::MAX.to_be_bytes(), &mut out).unwrap();
        assert_eq!(out, b"infinity");
    }

    #[test]
    fn a_head_reads_back_as_it_prints() {
        let head = Head {
            table: Chain::ConfigChanges,
            seq: 7,
            hash: "ab".repeat(32),
        };
        assert_eq!(Head::parse(&head.to_string()).unwrap(), head);
        assert!(Head::parse("decision_history:7").is_err());
        assert!(Head::parse("trades:7:00").is_err());
    }
}
