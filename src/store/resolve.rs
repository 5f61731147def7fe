//! Ids given as tradedesk shows them (a short id: the id's ending, `format::short`), or by
//! a unique prefix like git's object names. Only the command line names rows this way;
//! every act of the store takes a whole id.

use sqlx::PgConnection;
use uuid::Uuid;

use super::Store;
use super::error::Error;
use crate::format::{IdText, candidates};

impl Store {
    /// The one trade idea `given` names (`resolve`).
    pub async fn resolve_idea(&self, given: &str) -> Result<Uuid, Error> {
        self.resolve(Kind::Idea, given).await
    }

    /// The one strategy `given` names (`resolve`).
    pub async fn resolve_strategy(&self, given: &str) -> Result<Uuid, Error> {
        self.resolve(Kind::Strategy, given).await
    }

    /// The one decision `given` names (`resolve`).
    pub async fn resolve_decision(&self, given: &str) -> Result<Uuid, Error> {
        self.resolve(Kind::Decision, given).await
    }

    async fn resolve(&self, kind: Kind, given: &str) -> Result<Uuid, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        resolve(&mut conn, kind, given).await
    }
}

/// Tables whose rows can be named by a short id or an id prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Idea,
    Strategy,
    Decision,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Idea, Kind::Strategy, Kind::Decision];

    /// The statement that finds the ids starting (`$1`..`$2`) or ending (read backwards,
    /// `$3`..`$4`) with given digits: public for the test that checks its plan uses
    /// indexes only.
    pub fn matching(self) -> String {
        let table = self.table();
        let limit = LISTED + 1;
        format!(
            "(SELECT id FROM {table} WHERE id BETWEEN $1 AND $2 ORDER BY id LIMIT {limit})
             UNION
             (SELECT id FROM {table} WHERE {ID_BACKWARDS} BETWEEN $3 AND $4
               ORDER BY {ID_BACKWARDS} LIMIT {limit})
             ORDER BY id"
        )
    }

    fn table(self) -> &'static str {
        match self {
            Kind::Idea => "trade_ideas",
            Kind::Strategy => "strategies",
            Kind::Decision => "decision_history",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Idea => "trade idea",
            Kind::Strategy => "strategy",
            Kind::Decision => "decision",
        }
    }
}

/// A row's id read backwards (its hex digits from the last, as a uuid): what migration 16
/// indexes on each table whose rows are named (`idx_*_short_id`), so that the ids ending
/// with given digits, as tradedesk shows them, are one range of that index, as those
/// starting with them are of the primary key. It must stay the index's expression exactly
/// for PostgreSQL to use the index.
const ID_BACKWARDS: &str = "reverse(replace(id::text, '-', ''))::uuid";

/// The UUID range that ids starting with `digits` cover: `digits` padded with 0s, and
/// with fs.
fn bounds(digits: &str) -> Result<(Uuid, Uuid), Error> {
    let pad = |fill: char| {
        let mut s = digits.to_string();
        s.extend(std::iter::repeat_n(
            fill,
            32usize.saturating_sub(digits.len()),
        ));
        Uuid::parse_str(&s)
    };
    match (pad('0'), pad('f')) {
        (Ok(lo), Ok(hi)) => Ok((lo, hi)),
        _ => Err(Error::InvalidInput(format!("`{digits}` is not an id"))),
    }
}

/// How many of the matching ids are read: enough to list a few when more than one does.
const LISTED: usize = 3;

/// The one id of `kind` that `given` names: the whole id, its ending (the short id as
/// tradedesk shows it) or, out of habit, its start. Two ranges of indexes (the primary
/// key's, and migration 16's of the ids' endings), never a scan of the table.
async fn resolve(conn: &mut PgConnection, kind: Kind, given: &str) -> Result<Uuid, Error> {
    let text = IdText::parse(given).map_err(|e| Error::InvalidInput(e.to_string()))?;
    let ids: Vec<Uuid> = match text.whole() {
        Some(id) => {
            sqlx::query_scalar(&format!("SELECT id FROM {} WHERE id = $1", kind.table()))
                .bind(id)
                .fetch_all(&mut *conn)
                .await
        }
        None => {
            let (lo, hi) = bounds(text.digits())?;
            let reversed: String = text.digits().chars().rev().collect();
            let (end_lo, end_hi) = bounds(&reversed)?;
            sqlx::query_scalar(&kind.matching())
                .bind(lo)
                .bind(hi)
                .bind(end_lo)
                .bind(end_hi)
                .fetch_all(&mut *conn)
                .await
        }
    }
    .map_err(Error::Database)?;
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(Error::NotFound {
            what: kind.noun(),
            id: given.to_string(),
        }),
        many => Err(Error::InvalidInput(format!(
            "`{given}` matches more than one {} ({}): give more of the id",
            kind.noun(),
            candidates(&many[..many.len().min(LISTED)], many.len() > LISTED)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_cover_the_range_of_ids_starting_with_them() {
        let (lo, hi) = bounds("1c2d3e").unwrap();
        assert_eq!(lo.to_string(), "1c2d3e00-0000-0000-0000-000000000000");
        assert_eq!(hi.to_string(), "1c2d3eff-ffff-ffff-ffff-ffffffffffff");
    }
}
