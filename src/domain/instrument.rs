//! What a price move is worth: the contract size of the symbols the desk trades, so that
//! an open position can be valued in the account's currency (USD) between two account
//! captures. Conventions are the common CFD ones (docs/platform.md lists the symbols): a
//! forex lot is 100 000 units of the base currency, a gold lot 100 ounces, a silver lot
//! 5 000 ounces, an index lot one dollar per point.

use rust_decimal::{Decimal, RoundingStrategy};

/// The places a trader reads `symbol`'s price at, as its market quotes it: 5 for a forex
/// pair (EURUSD 1.08415), 3 for one quoted in yen (USDJPY 151.235), 2 for gold, 3 for
/// silver, 1 for a US index (US30 44012.5); `None` for a symbol tradedesk does not know
/// (docs/platform.md, "tradedesk's readings").
pub fn price_digits(symbol: &str) -> Option<u32> {
    match symbol {
        "XAUUSD" => return Some(2),
        "XAGUSD" => return Some(3),
        "US30" | "US100" | "NAS100" | "US500" | "SPX500" => return Some(1),
        _ => {}
    }
    let is_pair = symbol.len() == 6 && symbol.bytes().all(|b| b.is_ascii_uppercase());
    match (is_pair, symbol.get(3..)) {
        (true, Some("JPY")) => Some(3),
        (true, _) => Some(5),
        _ => None,
    }
}

/// What one price unit is worth in USD for one lot of `symbol` at `price`: 100 000 for a
/// pair quoted in USD (EURUSD), 100 000 / price for a pair based in USD (USDJPY: its P/L
/// is in yen), 100 for gold, 5 000 for silver, 1 for a US index. `None` for a symbol
/// whose value needs another rate (a cross such as EURGBP), an unknown one, or a price
/// that is not positive.
pub fn usd_per_unit_per_lot(symbol: &str, price: Decimal) -> Option<Decimal> {
    if price <= Decimal::ZERO {
        return None;
    }
    match symbol {
        "XAUUSD" => return Some(Decimal::from(100)),
        "XAGUSD" => return Some(Decimal::from(5_000)),
        "US30" | "US100" | "NAS100" | "US500" | "SPX500" => return Some(Decimal::ONE),
        _ => {}
    }
    let is_pair = symbol.len() == 6 && symbol.bytes().all(|b| b.is_ascii_uppercase());
    if !is_pair {
        return None;
    }
    let (base, quote) = symbol.split_at(3);
    match (base, quote) {
        (_, "USD") => Some(Decimal::from(100_000)),
        ("USD", _) => Decimal::from(100_000).checked_div(price),
        _ => None,
    }
}

/// Profit or loss in USD, to the cent, of `lot` lots bought (or sold) at `open` and valued
/// (or closed) at `now`; `None` when the symbol cannot be valued (see
/// [`usd_per_unit_per_lot`]).
pub fn position_pl(
    symbol: &str,
    buy: bool,
    open: Decimal,
    now: Decimal,
    lot: Decimal,
) -> Option<Decimal> {
    let moved = if buy { now - open } else { open - now };
    let per_unit = usd_per_unit_per_lot(symbol, now)?;
    let pl = moved.checked_mul(lot)?.checked_mul(per_unit)?;
    Some(pl.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn prices_are_read_at_the_digits_their_market_quotes() {
        assert_eq!(price_digits("EURUSD"), Some(5));
        assert_eq!(price_digits("USDJPY"), Some(3));
        assert_eq!(price_digits("XAUUSD"), Some(2));
        assert_eq!(price_digits("US30"), Some(1));
        assert_eq!(price_digits("BTCUSDT"), None);
        assert_eq!(price_digits("eurusd"), None);
    }

    #[test]
    fn a_pip_on_a_lot_of_eurusd_is_ten_dollars() {
        let pl = position_pl("EURUSD", true, dec("1.08500"), dec("1.08510"), Decimal::ONE);
        assert_eq!(pl, Some(dec("10.00")));
        let pl = position_pl("EURUSD", false, dec("1.08500"), dec("1.08510"), dec("0.5"));
        assert_eq!(pl, Some(dec("-5.00")));
    }

    #[test]
    fn gold_is_a_hundred_ounces_and_the_dow_a_dollar_a_point() {
        let gold = position_pl("XAUUSD", true, dec("2650.00"), dec("2651.00"), dec("0.10"));
        assert_eq!(gold, Some(dec("10.00")));
        let dow = position_pl("US30", false, dec("44000.0"), dec("43950.0"), dec("2"));
        assert_eq!(dow, Some(dec("100.00")));
    }

    #[test]
    fn a_pair_based_in_usd_converts_at_its_own_price() {
        // 100 000 × 0.100 yen, at 150.100 yen a dollar: 66.62 dollars.
        let pl = position_pl("USDJPY", true, dec("150.000"), dec("150.100"), Decimal::ONE);
        assert_eq!(pl, Some(dec("66.62")));
    }

    #[test]
    fn a_cross_or_an_unknown_symbol_is_not_valued_rather_than_guessed() {
        assert_eq!(usd_per_unit_per_lot("EURGBP", dec("0.85")), None);
        assert_eq!(usd_per_unit_per_lot("BTC", dec("90000")), None);
        assert_eq!(usd_per_unit_per_lot("eurusd", dec("1.1")), None);
        assert_eq!(usd_per_unit_per_lot("EURUSD", Decimal::ZERO), None);
    }
}
