//! Fixed-point numbers as the schema stores them, and as traders read them.
//!
//! PostgreSQL silently rounds a value with more decimal places than a `NUMERIC(p, s)`
//! column holds. tradedesk refuses such a value instead, so what the operator typed is
//! exactly what gets stored (docs/platform.md §1 gives the scales).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

/// A profit or loss with its sign, so a gain and a loss never look alike: `+120.40`,
/// `-69.60`.
pub fn signed(value: Decimal) -> String {
    if value.is_sign_negative() {
        value.to_string()
    } else {
        format!("+{value}")
    }
}

/// A `NUMERIC(precision, scale)` column: `precision` digits in all, `scale` after the point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericColumn {
    pub precision: u32,
    pub scale: u32,
}

/// `risk_config.min_confidence_threshold`, `trade_ideas.confidence_score`.
pub const PERCENT: NumericColumn = NumericColumn::new(5, 2);
/// `risk_config.max_lot_size`.
pub const LOT: NumericColumn = NumericColumn::new(10, 2);
/// `risk_config.daily_profit_target` and `max_drawdown_amount`.
pub const AMOUNT: NumericColumn = NumericColumn::new(12, 2);

/// Why a value does not fit a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misfit {
    /// More decimal places than the column's scale (trailing zeros do not count).
    TooPrecise { scale: u32 },
    /// Larger in magnitude than the column's largest value.
    TooLarge { max: Decimal },
}

impl NumericColumn {
    /// A column of `precision` digits, `scale` of them after the point.
    pub const fn new(precision: u32, scale: u32) -> Self {
        Self { precision, scale }
    }

    /// The largest value the column holds, e.g. 999.99 for `NUMERIC(5,2)`.
    pub fn max(self) -> Decimal {
        10i128
            .checked_pow(self.precision)
            .and_then(|p| Decimal::try_from_i128_with_scale(p - 1, self.scale).ok())
            .unwrap_or(Decimal::MAX)
    }

    /// `value` shown at the column's scale (0.5 → 0.50) if it fits, without rounding.
    pub fn fit(self, value: Decimal) -> Result<Decimal, Misfit> {
        let exact = value.normalize();
        if exact.scale() > self.scale {
            return Err(Misfit::TooPrecise { scale: self.scale });
        }
        let max = self.max();
        if exact.abs() > max {
            return Err(Misfit::TooLarge { max });
        }
        let mut shown = exact;
        shown.rescale(self.scale);
        Ok(shown)
    }
}

/// Parses a plain decimal as an operator types it: optional sign, digits, at most one
/// point. Exponents and digit separators, which `Decimal::from_str` would accept, are
/// refused so that `1e3` is never read as a thousand by accident.
pub fn parse_plain_decimal(text: &str) -> Option<Decimal> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next().unwrap_or_default();
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    Decimal::from_str(text).ok()
}

/// Money, lots and percentages as traders read them: at least two decimals, never rounded
/// (0.5 → "0.50", 0.505 → "0.505"), so a reason never shows two equal-looking numbers.
pub struct Shown(pub Decimal);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.0.normalize();
        if d.scale() < 2 {
            d.rescale(2);
        }
        write!(f, "{d}")
    }
}

/// A price exactly, without the trailing zeros a NUMERIC column pads it with
/// (`2638.000000` → `2638`, `1.085640` → `1.08564`).
pub struct Plain(pub Decimal);

impl fmt::Display for Plain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

/// A price at `digits` places, right for lining up a column of them: padded with zeros to
/// the digits, and never rounded (a value with more places shows them all).
pub struct AtDigits(pub Decimal, pub u32);

impl fmt::Display for AtDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.0.normalize();
        if d.scale() < self.1 {
            d.rescale(self.1);
        }
        write!(f, "{d}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gain_and_a_loss_never_look_alike() {
        assert_eq!(signed(Decimal::new(12040, 2)), "+120.40");
        assert_eq!(signed(Decimal::new(-6960, 2)), "-69.60");
        assert_eq!(signed(Decimal::ZERO), "+0");
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn column_max_follows_precision_and_scale() {
        assert_eq!(PERCENT.max(), dec("999.99"));
        assert_eq!(LOT.max(), dec("99999999.99"));
        assert_eq!(AMOUNT.max(), dec("9999999999.99"));
    }

    #[test]
    fn fit_refuses_more_decimals_than_the_column_holds() {
        assert_eq!(LOT.fit(dec("0.505")), Err(Misfit::TooPrecise { scale: 2 }));
    }

    #[test]
    fn fit_ignores_trailing_zeros_and_shows_the_column_scale() {
        assert_eq!(LOT.fit(dec("0.500")).unwrap().to_string(), "0.50");
        assert_eq!(LOT.fit(dec("3")).unwrap().to_string(), "3.00");
    }

    #[test]
    fn fit_refuses_values_larger_than_the_column() {
        assert!(matches!(
            PERCENT.fit(dec("1000")),
            Err(Misfit::TooLarge { .. })
        ));
        assert!(PERCENT.fit(dec("999.99")).is_ok());
    }

    #[test]
    fn plain_decimal_refuses_exponents_and_separators() {
        assert_eq!(parse_plain_decimal("1e3"), None);
        assert_eq!(parse_plain_decimal("1_000"), None);
        assert_eq!(parse_plain_decimal("."), None);
        assert_eq!(parse_plain_decimal(""), None);
        assert_eq!(parse_plain_decimal(" 1"), None);
        assert_eq!(parse_plain_decimal("-0.5"), Some(dec("-0.5")));
        assert_eq!(parse_plain_decimal(".5"), Some(dec("0.5")));
        assert_eq!(parse_plain_decimal("12"), Some(dec("12")));
    }

    #[test]
    fn a_price_is_padded_to_its_digits_and_never_rounded() {
        assert_eq!(AtDigits(dec("1.081000"), 5).to_string(), "1.08100");
        assert_eq!(AtDigits(dec("1.2675"), 5).to_string(), "1.26750");
        assert_eq!(AtDigits(dec("1.085645"), 5).to_string(), "1.085645");
        assert_eq!(AtDigits(dec("44012"), 1).to_string(), "44012.0");
        assert_eq!(AtDigits(dec("-2"), 0).to_string(), "-2");
    }

    #[test]
    fn shown_pads_to_two_decimals_without_rounding() {
        assert_eq!(Shown(dec("2")).to_string(), "2.00");
        assert_eq!(Shown(dec("0.505")).to_string(), "0.505");
        assert_eq!(Shown(dec("1.500")).to_string(), "1.50");
    }
}
