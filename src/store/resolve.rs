//! Ids given by a unique prefix, like git's object names. Only the command line names rows
//! this way; every act of the store takes a whole id.

use sqlx::PgConnection;
use uuid::Uuid;

use super::Store;
use super::error::Error;

impl Store {
    /// The one trade idea whose id starts with `prefix`.
    pub async fn resolve_idea(&self, prefix: &str) -> Result<Uuid, Error> {
        self.resolve(Kind::Idea, prefix).await
    }

    /// The one strategy whose id starts with `prefix`.
    pub async fn resolve_strategy(&self, prefix: &str) -> Result<Uuid, Error> {
        self.resolve(Kind::Strategy, prefix).await
    }

    /// The one decision whose id starts with `prefix`.
    pub async fn resolve_decision(&self, prefix: &str) -> Result<Uuid, Error> {
        self.resolve(Kind::Decision, prefix).await
    }

    async fn resolve(&self, kind: Kind, prefix: &str) -> Result<Uuid, Error> {
        let mut conn = self.pool().acquire().await.map_err(Error::Database)?;
        resolve(&mut conn, kind, prefix).await
    }
}

/// Tables whose rows can be named by id prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Idea,
    Strategy,
    Decision,
}

impl Kind {
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

/// The UUID range a prefix covers: the prefix padded with 0s, and with fs.
fn bounds(prefix: &str) -> Result<(Uuid, Uuid), Error> {
    let hex: String = prefix
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.is_empty() || hex.len() > 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::InvalidInput(format!(
            "`{prefix}` is not an id: give a UUID, or a unique prefix of one (hexadecimal digits)"
        )));
    }
    let pad = |fill: char| {
        let mut s = hex.clone();
        s.extend(std::iter::repeat_n(fill, 32 - hex.len()));
        Uuid::parse_str(&s)
    };
    match (pad('0'), pad('f')) {
        (Ok(lo), Ok(hi)) => Ok((lo, hi)),
        _ => Err(Error::InvalidInput(format!("`{prefix}` is not an id"))),
    }
}

/// The one id of `kind` that starts with `prefix`. Uses the primary-key index (a range
/// scan), never a scan of the table.
async fn resolve(conn: &mut PgConnection, kind: Kind, prefix: &str) -> Result<Uuid, Error> {
    let (lo, hi) = bounds(prefix)?;
    let ids: Vec<Uuid> = sqlx::query_scalar(&format!(
        "SELECT id FROM {} WHERE id BETWEEN $1 AND $2 ORDER BY id LIMIT 3",
        kind.table()
    ))
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::Database)?;
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(Error::NotFound {
            what: kind.noun(),
            id: prefix.to_string(),
        }),
        many => Err(Error::InvalidInput(format!(
            "`{prefix}` matches more than one {} ({}…): give more of the id",
            kind.noun(),
            many.iter()
                .map(|id| id.simple().to_string()[..12].to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_covers_its_range() {
        let (lo, hi) = bounds("1c2d-3e").unwrap();
        assert_eq!(lo.to_string(), "1c2d3e00-0000-0000-0000-000000000000");
        assert_eq!(hi.to_string(), "1c2d3eff-ffff-ffff-ffff-ffffffffffff");
    }

    #[test]
    fn non_hex_is_refused_in_a_sentence() {
        let err = bounds("xyz").unwrap_err().to_string();
        assert!(err.starts_with("`xyz` is not an id"), "{err}");
        assert!(bounds("").is_err());
        assert!(bounds(&"a".repeat(33)).is_err());
    }
}
