//! A lot size an operator approves with: positive, and exactly what `NUMERIC(10,2)` stores.
//! Parsed once where it is typed; everything after (the Gate, the order) takes a [`Lot`].

use std::fmt;

use rust_decimal::Decimal;

use super::numeric::{LOT, Shown, parse_plain_decimal};

/// A valid lot size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lot(Decimal);

/// Why a lot size was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LotError {
    #[error("lot size `{0}` is not a number such as 0.50")]
    NotANumber(String),
    #[error("lot size {0} must be greater than 0")]
    NotPositive(Decimal),
    #[error("lot size {0} must have at most 2 decimal places and be at most {max}", max = Shown(LOT.max()))]
    DoesNotFit(Decimal),
}

impl Lot {
    /// A lot of `value`, if it is one: greater than 0, at most 2 decimal places, at most
    /// 99 999 999.99. Never rounded.
    pub fn new(value: Decimal) -> Result<Lot, LotError> {
        if value <= Decimal::ZERO {
            return Err(LotError::NotPositive(value));
        }
        LOT.fit(value)
            .map(Lot)
            .map_err(|_| LotError::DoesNotFit(value))
    }

    /// Reads a lot as an operator types it: a plain decimal such as `0.50`.
    pub fn parse(text: &str) -> Result<Lot, LotError> {
        let text = text.trim();
        let value =
            parse_plain_decimal(text).ok_or_else(|| LotError::NotANumber(text.to_owned()))?;
        Lot::new(value)
    }

    /// The lot as stored, at the column's scale (`0.50`).
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Lot {
    /// `0.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Shown(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lot_is_parsed_once_and_never_rounded() {
        assert_eq!(Lot::parse(" 0.5 ").unwrap().to_string(), "0.50");
        assert_eq!(Lot::parse("3").unwrap().value().to_string(), "3.00");
        assert_eq!(
            Lot::parse("0.505").unwrap_err().to_string(),
            "lot size 0.505 must have at most 2 decimal places and be at most 99999999.99"
        );
        assert_eq!(
            Lot::parse("0").unwrap_err(),
            LotError::NotPositive(Decimal::ZERO)
        );
        assert_eq!(
            Lot::parse("-1").unwrap_err().to_string(),
            "lot size -1 must be greater than 0"
        );
        assert_eq!(
            Lot::parse("1e3").unwrap_err().to_string(),
            "lot size `1e3` is not a number such as 0.50"
        );
        assert!(
            Lot::parse("100000000").is_err(),
            "more than NUMERIC(10,2) holds"
        );
    }
}
