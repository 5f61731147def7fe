//! `tradedesk timeline`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::output::{Align, Out, Table, UNREADABLE, write_csv};
use super::{Failure, TimelineArgs, open};
use crate::domain::DecisionAction;
use crate::domain::label::labels;
use crate::domain::stored::{Listed, Stamp};
use crate::format::{ShortIds, parse_time, timestamp};
use crate::store::timeline::{Cursor, Page, TimelineFilter};
use crate::store::{ErrorCode, Target};

/// A time as the CSV and a cursor print it: RFC 3339 to the microsecond, or `infinity`,
/// `-infinity` as PostgreSQL spells them.
fn rfc3339(t: Stamp) -> String {
    use chrono::Datelike as _;
    match t {
        // RFC 3339 holds years 0 to 9999; others as the microseconds PostgreSQL stores.
        Stamp::At(at) if !(0..=9999).contains(&at.year()) => {
            format!("@{}", t.to_postgres_micros())
        }
        Stamp::At(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        Stamp::Infinity => "infinity".into(),
        Stamp::NegInfinity => "-infinity".into(),
        // Beyond chrono's years: the microseconds PostgreSQL stores, which `--after` reads.
        Stamp::AfterRange(micros) | Stamp::BeforeRange(micros) => format!("@{micros}"),
    }
}

/// A cursor as printed for `--after`: `<occurred_at RFC 3339>/<id>`.
fn cursor_text(c: &Cursor) -> String {
    format!("{}/{}", rfc3339(c.occurred_at), c.id)
}

fn parse_cursor(text: &str) -> Result<Cursor, Failure> {
    let bad = || {
        Failure::new(
            ErrorCode::InvalidInput,
            format!(
                "`{text}` is not a cursor: pass the one printed at the end of the previous page"
            ),
        )
    };
    let (at, id) = text.split_once('/').ok_or_else(bad)?;
    let occurred_at = match at {
        "infinity" => Stamp::Infinity,
        "-infinity" => Stamp::NegInfinity,
        at if at.starts_with('@') => {
            Stamp::from_postgres_micros(at[1..].parse().map_err(|_| bad())?)
        }
        at => Stamp::At(
            DateTime::parse_from_rfc3339(at)
                .map_err(|_| bad())?
                .with_timezone(&Utc),
        ),
    };
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok(Cursor { occurred_at, id })
}

pub async fn run(target: &Target, out: Out, args: TimelineArgs) -> Result<(), Failure> {
    let now = Utc::now();
    let action = args
        .action
        .map(|a| {
            a.parse::<DecisionAction>().map_err(|_| {
                Failure::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "`{a}` is not a decision action: use one of {}",
                        labels(DecisionAction::ALL)
                    ),
                )
            })
        })
        .transpose()?;
    let filter = TimelineFilter {
        symbol: args.symbol,
        action,
        operator: args.operator,
        since: args
            .since
            .as_deref()
            .map(|s| parse_time(s, now))
            .transpose()
            .map_err(|e| Failure::new(ErrorCode::InvalidInput, e.to_string()))?,
        until: args
            .until
            .as_deref()
            .map(|s| parse_time(s, now))
            .transpose()
            .map_err(|e| Failure::new(ErrorCode::InvalidInput, e.to_string()))?,
        after: args.after.as_deref().map(parse_cursor).transpose()?,
        limit: args.limit,
    };
    let page = match &args.archive {
        Some(path) => super::archive::timeline_page(target, path, &filter, &args.expect).await?,
        None => open(target).await?.timeline(&filter).await?,
    };
    if out.json {
        return out.json(&serde_json::json!({
            "decisions": page.decisions,
            "next": page.next.as_ref().map(cursor_text),
        }));
    }
    if args.csv {
        return print_csv(&page);
    }
    print_text(&page);
    Ok(())
}

/// The CSV columns, in the order `print_csv` writes them.
const CSV_HEADER: [&str; 11] = [
    "occurred_at",
    "action",
    "symbol",
    "operator",
    "trade_idea_id",
    "strategy_id",
    "confidence_score",
    "risk_check_result",
    "human_override",
    "rationale",
    "id",
];

fn print_csv(page: &Page) -> Result<(), Failure> {
    let rows = page.decisions.iter().map(|listed| {
        let d = match listed {
            Listed::Read(d) => d,
            Listed::Flagged(f) => {
                // As stored, the action column saying why it cannot be read.
                let column = |name| f.column(name).unwrap_or_default().to_string();
                let none = |v: String| if v == "—" { String::new() } else { v };
                return [
                    rfc3339(listed.at()),
                    format!("UNREADABLE: {}", f.reason()),
                    none(column("symbol")),
                    none(column("operator")),
                    none(column("trade_idea_id")),
                    none(column("strategy_id")),
                    none(column("confidence_score")),
                    none(column("risk_check_result")),
                    column("human_override"),
                    column("rationale"),
                    f.id.to_string(),
                ];
            }
        };
        [
            rfc3339(Stamp::At(d.occurred_at)),
            d.action.to_string(),
            d.symbol.clone().unwrap_or_default(),
            d.operator.clone().unwrap_or_default(),
            d.trade_idea_id.map(|i| i.to_string()).unwrap_or_default(),
            d.strategy_id.map(|i| i.to_string()).unwrap_or_default(),
            d.confidence_score
                .map(|c| c.to_string())
                .unwrap_or_default(),
            d.risk_check_result.clone().unwrap_or_default(),
            d.human_override.to_string(),
            d.rationale.clone(),
            d.id.to_string(),
        ]
    });
    write_csv(std::io::stdout().lock(), &CSV_HEADER, rows)
}

fn print_text(page: &Page) {
    if page.decisions.is_empty() {
        println!("No decisions.");
        return;
    }
    // The decision's short id: what `tradedesk replay` takes. Every id the page shows, the
    // ideas' too, is one listing: none two alike.
    let shown = ShortIds::new(page.decisions.iter().flat_map(|listed| {
        let idea = match listed {
            Listed::Read(d) => d.trade_idea_id,
            Listed::Flagged(f) => f
                .column("trade_idea_id")
                .and_then(|i| Uuid::parse_str(i).ok()),
        };
        [Some(listed.id()), idea].into_iter().flatten()
    }));
    let mut table = Table::new(&[
        ("ID", Align::Left),
        ("TIME (UTC)", Align::Left),
        ("ACTION", Align::Left),
        ("SYMBOL", Align::Left),
        ("IDEA", Align::Left),
        ("OPERATOR", Align::Left),
        ("RISK CHECK", Align::Left),
        ("RATIONALE", Align::Left),
    ]);
    for listed in &page.decisions {
        let d = match listed {
            Listed::Read(d) => d,
            Listed::Flagged(f) => {
                let column = |name| f.column(name).unwrap_or_default().to_string();
                let idea = f
                    .column("trade_idea_id")
                    .and_then(|i| Uuid::parse_str(i).ok())
                    .map_or_else(|| "—".to_string(), |i| shown.of(i));
                let operator = match f.column("operator") {
                    Some("—") | None => "platform".to_string(),
                    Some(o) => o.to_string(),
                };
                table.row([
                    shown.of(f.id),
                    column("occurred_at"),
                    UNREADABLE.to_string(),
                    column("symbol"),
                    idea,
                    operator,
                    column("risk_check_result"),
                    column("rationale"),
                ]);
                continue;
            }
        };
        table.row([
            shown.of(d.id),
            timestamp(d.occurred_at),
            d.action.to_string(),
            d.symbol.clone().unwrap_or_else(|| "—".into()),
            d.trade_idea_id
                .map(|i| shown.of(i))
                .unwrap_or_else(|| "—".into()),
            d.operator.clone().unwrap_or_else(|| "platform".into()),
            d.risk_check_result.clone().unwrap_or_default(),
            d.rationale.clone(),
        ]);
    }
    table.print();
    super::output::print_unreadable(
        page.decisions.iter().filter_map(Listed::flagged),
        &shown,
        None,
    );
    if let Some(next) = &page.next {
        println!("… more: --after {}", cursor_text(next));
    }
}
