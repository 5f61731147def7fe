//! Values as PostgreSQL stores them, before they are read as prices, amounts and times.
//!
//! Any writer can store whatever a column's type admits, and the platform's Python code
//! does (docs/platform.md, "How the platform's Python code writes"): a float's exact
//! binary expansion in an unconstrained `NUMERIC` (`1.081` →
//! `1.080999999999999960920149533194489777088165283203125`, up to hundreds of digits for
//! the smallest floats), `NaN` in any `NUMERIC`, `±infinity` in a timestamp, NULL elements
//! and several dimensions in an array. The store decodes every such value into the types
//! here, which never fail; turning a row into an entity then either succeeds or names each
//! column it could not read ([`Flaw`]), and the row is listed [`Flagged`] — never dropped,
//! never failing the list it is in.

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use uuid::Uuid;

/// The scale of the platform's price columns (`entry_price`, `stop_loss`:
/// `NUMERIC(18,6)`): prices stored without a scale (`entry_range`, `take_profit`) are read
/// at it, so a float's expansion reads as the price it stands for.
pub const PRICE_SCALE: u32 = 6;

/// A `NUMERIC` as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Numeric {
    /// A number, rounded (half away from zero, as PostgreSQL rounds) to as many places as
    /// a `Decimal` holds when it has more.
    Number(Decimal),
    NaN,
    Infinity,
    NegInfinity,
    /// Beyond a `Decimal`'s range (about ±7.9e28), in scientific notation (`1.2e40`).
    TooLarge(String),
}

impl Numeric {
    /// The number, when it is one.
    pub fn number(&self) -> Option<Decimal> {
        match self {
            Numeric::Number(d) => Some(*d),
            _ => None,
        }
    }

    /// The number as a price: rounded to [`PRICE_SCALE`] places (half away from zero) when
    /// it has more.
    pub fn price(&self) -> Option<Decimal> {
        self.number().map(price)
    }
}

impl Numeric {
    /// A NUMERIC as PostgreSQL prints it (`-12.50`, `NaN`, `Infinity`; `1.5e3` too, as
    /// JSON may carry one): never fails; text that is no number reads as `NaN`.
    pub fn parse(text: &str) -> Numeric {
        let text = text.trim();
        match text {
            "NaN" => return Numeric::NaN,
            "Infinity" => return Numeric::Infinity,
            "-Infinity" => return Numeric::NegInfinity,
            _ => {}
        }
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (mantissa, exponent) = match digits.split_once(['e', 'E']) {
            Some((m, e)) => match e.parse::<i64>() {
                Ok(e) if e.unsigned_abs() <= 2_000 => (m, e),
                _ => return Numeric::NaN,
            },
            None => (digits, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return Numeric::NaN;
        }
        if exponent == 0 {
            return numeric_from_digits(negative, whole, fraction);
        }
        // Move the point: all digits, then split them again `exponent` places over.
        let all = format!("{whole}{fraction}");
        let point = whole.len() as i64 + exponent;
        let (w, f) = if point <= 0 {
            (
                String::new(),
                format!("{}{all}", "0".repeat(point.unsigned_abs() as usize)),
            )
        } else if point as usize >= all.len() {
            (
                format!("{all}{}", "0".repeat(point as usize - all.len())),
                String::new(),
            )
        } else {
            let (w, f) = all.split_at(point as usize);
            (w.to_string(), f.to_string())
        };
        numeric_from_digits(negative, &w, &f)
    }
}

/// `value` at no more than [`PRICE_SCALE`] places.
pub fn price(value: Decimal) -> Decimal {
    if value.scale() > PRICE_SCALE {
        value.round_dp_with_strategy(PRICE_SCALE, RoundingStrategy::MidpointAwayFromZero)
    } else {
        value
    }
}

impl fmt::Display for Numeric {
    /// A number as stored (at its column's scale: `88.00`); the others as a trader reads
    /// them: `NaN`, `∞`, `-∞`, `1.2e40`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Numeric::Number(d) => write!(f, "{d}"),
            Numeric::NaN => f.write_str("NaN"),
            Numeric::Infinity => f.write_str("∞"),
            Numeric::NegInfinity => f.write_str("-∞"),
            Numeric::TooLarge(text) => f.write_str(text),
        }
    }
}

impl From<Decimal> for Numeric {
    fn from(d: Decimal) -> Self {
        Numeric::Number(d)
    }
}

/// Builds a number from its decimal digits, rounding away the places a `Decimal` cannot
/// hold. `whole` and `fraction` are ASCII digits (either may be empty).
pub fn numeric_from_digits(negative: bool, whole: &str, fraction: &str) -> Numeric {
    let whole = whole.trim_start_matches('0');
    // A Decimal's mantissa is 96 bits (28 or 29 digits); its scale at most 28.
    const MAX_MANTISSA: u128 = (1u128 << 96) - 1;
    if whole.len() > 29 {
        return Numeric::TooLarge(scientific(negative, whole, fraction));
    }
    let most_places = fraction.len().min(28);
    for places in (0..=most_places).rev() {
        let kept = format!("{whole}{}", &fraction[..places]);
        let mantissa = if kept.is_empty() {
            Some(0)
        } else {
            kept.parse::<u128>().ok()
        };
        let Some(mut mantissa) = mantissa else {
            continue;
        };
        // Half away from zero, on the first dropped digit.
        if fraction.as_bytes().get(places).is_some_and(|d| *d >= b'5') {
            let Some(up) = mantissa.checked_add(1) else {
                continue;
            };
            mantissa = up;
        }
        if mantissa > MAX_MANTISSA {
            continue;
        }
        let signed = if negative {
            -(mantissa as i128)
        } else {
            mantissa as i128
        };
        // `places` ≤ 28, and the mantissa fits: this cannot fail, but never panic.
        if let Ok(d) = Decimal::try_from_i128_with_scale(signed, places as u32) {
            return Numeric::Number(d);
        }
    }
    Numeric::TooLarge(scientific(negative, whole, fraction))
}

/// `±d.ddde±N` for a number too large for a `Decimal`: three significant digits.
fn scientific(negative: bool, whole: &str, fraction: &str) -> String {
    let sign = if negative { "-" } else { "" };
    let digits: String = whole.chars().chain(fraction.chars()).take(3).collect();
    let (lead, rest) = digits.split_at(1.min(digits.len()));
    let rest = rest.trim_end_matches('0');
    let exponent = whole.len().saturating_sub(1);
    if rest.is_empty() {
        format!("{sign}{lead}e{exponent}")
    } else {
        format!("{sign}{lead}.{rest}e{exponent}")
    }
}

/// A `TIMESTAMPTZ` as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stamp {
    /// `-infinity`.
    NegInfinity,
    /// Before year 1 (PostgreSQL reaches 4713 BC): no time a trade happened at, kept as its
    /// microseconds since 2000-01-01 as PostgreSQL stores them, so that it sorts and pages
    /// exactly.
    BeforeRange(i64),
    /// A time of years 1 to 9999: every computation on it (a chart's window, a day's
    /// start) stays far inside chrono's range, and RFC 3339 can print it.
    At(DateTime<Utc>),
    /// After year 9999 (PostgreSQL reaches 294276), likewise.
    AfterRange(i64),
    /// `infinity`.
    Infinity,
}

impl Stamp {
    /// The time, when it is one.
    pub fn at(self) -> Option<DateTime<Utc>> {
        match self {
            Stamp::At(t) => Some(t),
            _ => None,
        }
    }

    /// Microseconds since 2000-01-01 UTC as PostgreSQL sends them (`i64::MAX` and
    /// `i64::MIN` are its infinities).
    pub fn from_postgres_micros(micros: i64) -> Stamp {
        match micros {
            i64::MAX => Stamp::Infinity,
            i64::MIN => Stamp::NegInfinity,
            _ => {
                let epoch =
                    DateTime::from_timestamp(946_684_800, 0).unwrap_or(DateTime::UNIX_EPOCH);
                use chrono::Datelike as _;
                match epoch.checked_add_signed(chrono::TimeDelta::microseconds(micros)) {
                    Some(t) if (1..=9999).contains(&t.year()) => Stamp::At(t),
                    _ if micros > 0 => Stamp::AfterRange(micros),
                    _ => Stamp::BeforeRange(micros),
                }
            }
        }
    }

    /// The microseconds since 2000-01-01 UTC PostgreSQL stores for this time (its
    /// infinities for ours).
    pub fn to_postgres_micros(self) -> i64 {
        let epoch = DateTime::from_timestamp(946_684_800, 0).unwrap_or(DateTime::UNIX_EPOCH);
        match self {
            Stamp::Infinity => i64::MAX,
            Stamp::NegInfinity => i64::MIN,
            Stamp::At(t) => (t - epoch).num_microseconds().unwrap_or(if t > epoch {
                i64::MAX - 1
            } else {
                i64::MIN + 1
            }),
            Stamp::AfterRange(micros) | Stamp::BeforeRange(micros) => micros,
        }
    }
}

impl Serialize for Stamp {
    /// A time as RFC 3339 (as chrono writes one), or `"infinity"`, `"-infinity"` as
    /// PostgreSQL spells them.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Stamp::At(t) => t.serialize(serializer),
            Stamp::Infinity => serializer.serialize_str("infinity"),
            Stamp::NegInfinity => serializer.serialize_str("-infinity"),
            Stamp::AfterRange(_) | Stamp::BeforeRange(_) => {
                serializer.serialize_str(&self.to_string())
            }
        }
    }
}

impl From<DateTime<Utc>> for Stamp {
    fn from(t: DateTime<Utc>) -> Self {
        Stamp::At(t)
    }
}

impl fmt::Display for Stamp {
    /// A time as the command line prints one (`2026-11-25 09:30:00`), or `∞`, `-∞`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stamp::At(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S")),
            Stamp::Infinity => f.write_str("∞"),
            Stamp::NegInfinity => f.write_str("-∞"),
            // Beyond chrono's reach: the year, near enough to read (a Julian year a year).
            Stamp::AfterRange(micros) | Stamp::BeforeRange(micros) => {
                let year = 2000 + micros / 31_557_600_000_000;
                write!(f, "year {year}")
            }
        }
    }
}

/// An array as stored: its elements in order (several dimensions flattened), NULLs
/// included, and how many dimensions it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredArray<T> {
    pub dimensions: usize,
    pub items: Vec<Option<T>>,
}

impl<T> Default for StoredArray<T> {
    fn default() -> Self {
        StoredArray {
            dimensions: 1,
            items: Vec::new(),
        }
    }
}

impl<T> StoredArray<T> {
    /// A one-dimensional array of `items`.
    pub fn of(items: Vec<T>) -> Self {
        StoredArray {
            dimensions: 1,
            items: items.into_iter().map(Some).collect(),
        }
    }

    /// The elements, read one by one by `read` (their index given), or every flaw: a
    /// NULL element, an element `read` refuses, more than one dimension.
    pub fn read<U>(
        &self,
        column: &str,
        mut read: impl FnMut(&T) -> Result<U, String>,
    ) -> Result<Vec<U>, Vec<Flaw>> {
        let mut flaws = Vec::new();
        if self.dimensions > 1 {
            flaws.push(Flaw::new(
                column,
                format!("an array of {} dimensions", self.dimensions),
            ));
        }
        let mut read_items = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate() {
            match item {
                None => flaws.push(Flaw::new(format!("{column}[{}]", i + 1), "NULL")),
                Some(v) => match read(v) {
                    Ok(u) => read_items.push(u),
                    Err(shown) => flaws.push(Flaw::new(format!("{column}[{}]", i + 1), shown)),
                },
            }
        }
        if flaws.is_empty() {
            Ok(read_items)
        } else {
            Err(flaws)
        }
    }
}

impl<T: fmt::Display> fmt::Display for StoredArray<T> {
    /// `{1.081,NaN,NULL}`, as `psql` shows an array.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match item {
                Some(v) => write!(f, "{v}")?,
                None => f.write_str("NULL")?,
            }
        }
        f.write_str("}")
    }
}

/// A column whose stored value the entity cannot hold, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flaw {
    /// The column, with the element's position for an array (`take_profit[2]`).
    pub column: String,
    /// What it holds, as shown: `NaN`, `∞`, `NULL`, `an array of 2 dimensions`, …
    pub holds: String,
}

impl Flaw {
    pub fn new(column: impl Into<String>, holds: impl Into<String>) -> Self {
        Flaw {
            column: column.into(),
            holds: holds.into(),
        }
    }
}

impl fmt::Display for Flaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {}", self.column, self.holds)
    }
}

/// Reading a row's columns into an entity: each read that fails records its flaw and gives
/// a placeholder, and [`Reading::finish`] hands back the entity only when nothing failed —
/// the placeholders never leave it.
#[derive(Debug, Default)]
pub struct Reading(Vec<Flaw>);

impl Reading {
    /// Records that `column` holds `holds`.
    pub fn flaw(&mut self, column: impl Into<String>, holds: impl Into<String>) {
        self.0.push(Flaw::new(column, holds));
    }

    /// A number column.
    pub fn number(&mut self, column: &str, n: &Numeric) -> Decimal {
        n.number().unwrap_or_else(|| {
            self.flaw(column, n.to_string());
            Decimal::ZERO
        })
    }

    /// A price column, at [`PRICE_SCALE`] places.
    pub fn price(&mut self, column: &str, n: &Numeric) -> Decimal {
        price(self.number(column, n))
    }

    /// An array of prices, each at [`PRICE_SCALE`] places.
    pub fn prices(&mut self, column: &str, a: &StoredArray<Numeric>) -> Vec<Decimal> {
        a.read(column, |n| n.price().ok_or_else(|| n.to_string()))
            .unwrap_or_else(|flaws| {
                self.0.extend(flaws);
                Vec::new()
            })
    }

    /// A time column.
    pub fn time(&mut self, column: &str, t: Stamp) -> DateTime<Utc> {
        t.at().unwrap_or_else(|| {
            self.flaw(column, t.to_string());
            DateTime::UNIX_EPOCH
        })
    }

    /// `value`, when every read went well; else the row `flagged` with every flaw.
    pub fn finish<T>(
        self,
        value: T,
        flagged: impl FnOnce(Vec<Flaw>) -> Flagged,
    ) -> Result<T, Flagged> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(flagged(self.0))
        }
    }
}

/// A row that could not be made into its entity: listed where it belongs, flagged, with
/// its id, every flaw, and its columns as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flagged {
    /// The table it is a row of.
    pub table: &'static str,
    pub id: Uuid,
    /// Every column that could not be read (never empty).
    pub flaws: Vec<Flaw>,
    /// Every column, as stored and shown (`NaN`, `∞` as such), in the table's order (a
    /// JSON object, in that order).
    #[serde(serialize_with = "columns_as_object")]
    pub columns: Vec<(&'static str, String)>,
    /// When the row says it happened, as stored: where it sorts in a list by time.
    pub at: Option<Stamp>,
}

fn columns_as_object<S: serde::Serializer>(
    columns: &[(&'static str, String)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap as _;
    let mut map = serializer.serialize_map(Some(columns.len()))?;
    for (column, value) in columns {
        map.serialize_entry(column, value)?;
    }
    map.end()
}

impl Flagged {
    /// Why the row cannot be read: `stop_loss is NaN; created_at is ∞`.
    pub fn reason(&self) -> String {
        self.flaws
            .iter()
            .map(Flaw::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A column's value as shown, if the row has that column.
    pub fn column(&self, name: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(c, _)| *c == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An entity listed by id and time.
pub trait Entity {
    fn id(&self) -> Uuid;
    /// The time its list is ordered by.
    fn at(&self) -> Stamp;
}

impl<T: Entity> Listed<T> {
    pub fn id(&self) -> Uuid {
        match self {
            Listed::Read(t) => t.id(),
            Listed::Flagged(f) => f.id,
        }
    }

    /// The time it sorts by; a flagged row's as stored.
    pub fn at(&self) -> Stamp {
        match self {
            Listed::Read(t) => t.at(),
            Listed::Flagged(f) => f.at.unwrap_or(Stamp::NegInfinity),
        }
    }
}

/// One row of a list: the entity, or the row that could not be made into one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Listed<T> {
    Read(T),
    Flagged(Flagged),
}

impl<T> Listed<T> {
    /// The entity, when the row was read.
    pub fn read(&self) -> Option<&T> {
        match self {
            Listed::Read(t) => Some(t),
            Listed::Flagged(_) => None,
        }
    }

    /// The flagged row, when it could not be read.
    pub fn flagged(&self) -> Option<&Flagged> {
        match self {
            Listed::Read(_) => None,
            Listed::Flagged(f) => Some(f),
        }
    }

    /// The entity, or why its row cannot be read (`what` names the row: `trade idea
    /// 01a2b3c4`).
    pub fn into_read(self) -> Result<T, Flagged> {
        match self {
            Listed::Read(t) => Ok(t),
            Listed::Flagged(f) => Err(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn a_floats_binary_expansion_reads_as_the_price_it_stands_for() {
        let n = numeric_from_digits(
            false,
            "1",
            "080999999999999960920149533194489777088165283203125",
        );
        assert_eq!(n.price(), Some(dec("1.081000")));
        let n = numeric_from_digits(
            false,
            "1",
            "2705000000000000959232693276135250926017761230468750",
        );
        assert_eq!(n.price(), Some(dec("1.270500")));
        // Rounded to the 28 places a Decimal holds, half away from zero.
        assert_eq!(n.number(), Some(dec("1.2705000000000000959232693276")));
    }

    #[test]
    fn the_smallest_and_largest_floats_never_fail() {
        let tiny = "0".repeat(323) + "4940656458412465441765687928682213723651";
        assert_eq!(
            numeric_from_digits(false, "", &tiny).price(),
            Some(Decimal::ZERO)
        );
        let huge = format!("17976931348623157{}", "0".repeat(292));
        let n = numeric_from_digits(true, &huge, "");
        assert_eq!(n, Numeric::TooLarge("-1.79e308".into()));
        assert_eq!(n.to_string(), "-1.79e308");
        assert_eq!(n.price(), None);
    }

    #[test]
    fn large_numbers_keep_as_many_places_as_fit() {
        let n = numeric_from_digits(false, "12345678901234567890", "123456789012345678901234");
        assert_eq!(n.number(), Some(dec("12345678901234567890.123456789")));
        assert_eq!(
            numeric_from_digits(false, "79228162514264337593543950335", "9"),
            Numeric::TooLarge("7.92e28".into())
        );
        assert_eq!(
            numeric_from_digits(false, "79228162514264337593543950335", "4").number(),
            Some(Decimal::MAX)
        );
        assert_eq!(
            numeric_from_digits(false, "", "").number(),
            Some(Decimal::ZERO)
        );
        assert_eq!(
            numeric_from_digits(true, "0", "500").number(),
            Some(dec("-0.500"))
        );
    }

    #[test]
    fn text_reads_as_postgres_and_json_print_numbers() {
        assert_eq!(Numeric::parse("-12.50").number(), Some(dec("-12.50")));
        assert_eq!(Numeric::parse("NaN"), Numeric::NaN);
        assert_eq!(Numeric::parse("-Infinity"), Numeric::NegInfinity);
        assert_eq!(Numeric::parse("1.5e3").number(), Some(dec("1500")));
        assert_eq!(Numeric::parse("25E-2").number(), Some(dec("0.25")));
        assert_eq!(Numeric::parse("1e300"), Numeric::TooLarge("1e300".into()));
        assert_eq!(Numeric::parse("x1"), Numeric::NaN);
        assert_eq!(Numeric::parse(F1_081).price(), Some(dec("1.081")));
    }

    const F1_081: &str = "1.080999999999999960920149533194489777088165283203125";

    #[test]
    fn infinities_and_nan_show_as_a_trader_reads_them() {
        assert_eq!(Numeric::NaN.to_string(), "NaN");
        assert_eq!(Numeric::Infinity.to_string(), "∞");
        assert_eq!(Stamp::Infinity.to_string(), "∞");
        assert_eq!(Stamp::NegInfinity.to_string(), "-∞");
        assert_eq!(Stamp::from_postgres_micros(i64::MAX), Stamp::Infinity);
        assert_eq!(Stamp::from_postgres_micros(i64::MIN), Stamp::NegInfinity);
        assert_eq!(
            Stamp::from_postgres_micros(0).to_string(),
            "2000-01-01 00:00:00"
        );
        // About year 287000: PostgreSQL reaches it (its last is 294276), chrono does not.
        // Years 10000 and 4713 BC: PostgreSQL's, no trade's.
        let y10000 = Stamp::from_postgres_micros(252_455_616_000_000_000);
        assert!(matches!(y10000, Stamp::AfterRange(_)), "{y10000:?}");
        assert!(matches!(
            Stamp::from_postgres_micros(-211_813_488_000_000_000),
            Stamp::BeforeRange(_)
        ));
        let far = Stamp::from_postgres_micros(9_000_000_000_000_000_000);
        assert_eq!(far, Stamp::AfterRange(9_000_000_000_000_000_000));
        assert_eq!(far.to_string(), "year 287192");
        assert_eq!(far.to_postgres_micros(), 9_000_000_000_000_000_000);
        assert!(Stamp::NegInfinity < Stamp::At(DateTime::UNIX_EPOCH));
        assert!(Stamp::At(DateTime::UNIX_EPOCH) < Stamp::Infinity);
    }

    #[test]
    fn times_go_to_postgres_and_back_unchanged() {
        for s in [
            Stamp::Infinity,
            Stamp::NegInfinity,
            Stamp::At(DateTime::UNIX_EPOCH),
            Stamp::At(DateTime::from_timestamp(1_764_000_000, 123_456_000).unwrap()),
        ] {
            assert_eq!(Stamp::from_postgres_micros(s.to_postgres_micros()), s);
        }
    }

    #[test]
    fn a_reading_gives_its_value_only_when_every_column_read() {
        let mut r = Reading::default();
        let price = r.price("stop_loss", &Numeric::Number(dec("1.0841000001")));
        assert_eq!(r.finish(price, |_| unreachable!()), Ok(dec("1.084100")));
        let mut r = Reading::default();
        let nan = r.number("confidence_score", &Numeric::NaN);
        let at = r.time("created_at", Stamp::Infinity);
        let flagged = |flaws| Flagged {
            table: "trade_ideas",
            id: Uuid::nil(),
            flaws,
            columns: Vec::new(),
            at: None,
        };
        let refused = r.finish((nan, at), flagged).unwrap_err();
        assert_eq!(refused.reason(), "confidence_score is NaN; created_at is ∞");
    }

    #[test]
    fn an_array_names_each_element_it_cannot_read() {
        let a = StoredArray {
            dimensions: 1,
            items: vec![Some(Numeric::Number(dec("1.5"))), Some(Numeric::NaN), None],
        };
        let read = a.read("take_profit", |n| n.price().ok_or_else(|| n.to_string()));
        let flaws: Vec<String> = read.unwrap_err().iter().map(Flaw::to_string).collect();
        assert_eq!(flaws, ["take_profit[2] is NaN", "take_profit[3] is NULL"]);
        assert_eq!(a.to_string(), "{1.5,NaN,NULL}");
        assert_eq!(Numeric::Number(dec("88.00")).to_string(), "88.00");
        let two = StoredArray {
            dimensions: 2,
            items: vec![Some(Numeric::Number(dec("1")))],
        };
        let flaws = two.read("take_profit", |n| n.price().ok_or(String::new()));
        assert_eq!(
            flaws.unwrap_err()[0].to_string(),
            "take_profit is an array of 2 dimensions"
        );
    }
}
