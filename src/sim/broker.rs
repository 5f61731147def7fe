//! The paper broker: fills the orders handed to execution (an operator's approval or the
//! engine's own) at the simulated price once claimed, as the platform's bridge claims them, closes positions at the market once their stop
//! or first target is touched or their time limit is up, and reports the account as the
//! collector captures it.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use super::market::usd_per_unit_per_lot;
use crate::domain::{AccountSnapshot, Direction};
use crate::store::engine::Position;

/// How long an order waits for its fill.
const FILL_AFTER: Duration = Duration::seconds(1);
/// Leverage: margin is the position's value divided by this.
const LEVERAGE: i64 = 100;

/// What the broker does in one cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Fill {
        order: uuid::Uuid,
        price: Decimal,
    },
    Close {
        position: uuid::Uuid,
        price: Decimal,
        pl: Decimal,
        why: CloseReason,
    },
}

/// Why a position was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    Stop,
    Target,
    TimeLimit,
}

/// Each open order and position's next step at `now` with the symbols' `price`s: pure, so
/// the same market makes the same fills and closes.
pub fn actions(
    positions: &[Position],
    now: DateTime<Utc>,
    price: impl Fn(&str) -> Option<Decimal>,
) -> Vec<Action> {
    let mut out = Vec::new();
    for p in positions {
        let Some(current) = price(&p.symbol) else {
            continue;
        };
        match (p.fill_price, p.filled_at) {
            // Only an order the bridge claimed fills (docs/platform.md, "The execution
            // hand-off"); the engine claims every pending one before it asks.
            (None, _) if p.claimed && now - p.requested_at >= FILL_AFTER => {
                out.push(Action::Fill {
                    order: p.id,
                    price: current,
                })
            }
            (None, _) => {}
            (Some(fill), filled_at) => {
                let buy = p.direction == Direction::Buy.as_str();
                let stop_hit = if buy {
                    current <= p.stop_loss
                } else {
                    current >= p.stop_loss
                };
                let target = p.take_profit.first().copied();
                let target_hit =
                    target.is_some_and(|t| if buy { current >= t } else { current <= t });
                let limit = hold_limit(p.expected_hold.as_deref());
                let expired = filled_at.unwrap_or(p.requested_at) + limit <= now;
                // Every close is at the market: a stop becomes a market order once touched
                // (slipping past its level), and a target's limit order fills at its level
                // or better (the market, when the price gapped through it).
                let why = if stop_hit {
                    Some(CloseReason::Stop)
                } else if target_hit {
                    Some(CloseReason::Target)
                } else if expired {
                    Some(CloseReason::TimeLimit)
                } else {
                    None
                };
                if let Some(why) = why {
                    out.push(Action::Close {
                        position: p.id,
                        price: current,
                        pl: pl(&p.symbol, buy, fill, current, p.lot_size),
                        why,
                    });
                }
            }
        }
    }
    out
}

/// How long a position may stay open: `scalp_30m` → 30 minutes, `swing_1d` → a day.
fn hold_limit(expected_hold: Option<&str>) -> Duration {
    let Some(hold) = expected_hold else {
        return Duration::hours(1);
    };
    let amount = hold
        .rsplit('_')
        .next()
        .unwrap_or_default()
        .trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = hold.chars().last();
    match (amount.parse::<i64>(), unit) {
        (Ok(n), Some('m')) => Duration::minutes(n),
        (Ok(n), Some('h')) => Duration::hours(n),
        (Ok(n), Some('d')) => Duration::days(n),
        _ => Duration::hours(1),
    }
}

/// Profit or loss of `lot` lots from `open` to `close`, in USD to the cent (zero for a
/// symbol the market does not quote).
pub fn pl(symbol: &str, buy: bool, open: Decimal, close: Decimal, lot: Decimal) -> Decimal {
    crate::domain::instrument::position_pl(symbol, buy, open, close, lot).unwrap_or_default()
}

/// The account at `now`: the balance with what was realised, the open positions valued at
/// the current prices, the margin they use.
pub fn account(
    id: uuid::Uuid,
    balance: Decimal,
    positions: &[Position],
    now: DateTime<Utc>,
    price: impl Fn(&str) -> Option<Decimal>,
) -> AccountSnapshot {
    let round = |d: Decimal| d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let mut open_pl = Decimal::ZERO;
    let mut margin = Decimal::ZERO;
    let mut open = 0;
    for p in positions {
        let (Some(fill), Some(current)) = (p.fill_price, price(&p.symbol)) else {
            continue;
        };
        open += 1;
        let buy = p.direction == Direction::Buy.as_str();
        open_pl += pl(&p.symbol, buy, fill, current, p.lot_size);
        margin +=
            p.lot_size * usd_per_unit_per_lot(&p.symbol, current).unwrap_or_default() * current
                / Decimal::from(LEVERAGE);
    }
    let equity = balance + open_pl;
    AccountSnapshot {
        id,
        balance: round(balance),
        equity: round(equity),
        margin_used: round(margin),
        margin_free: round(equity - margin),
        open_pl: round(open_pl),
        open_positions: open,
        captured_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn position(direction: &str, fill: Option<&str>) -> Position {
        Position {
            id: uuid::Uuid::from_u128(1),
            trade_idea_id: uuid::Uuid::from_u128(2),
            symbol: "EURUSD".into(),
            direction: direction.into(),
            lot_size: dec("0.50"),
            stop_loss: dec("1.08400"),
            take_profit: vec![dec("1.08800"), dec("1.09000")],
            expected_hold: Some("scalp_30m".into()),
            requested_at: at("2026-11-25T10:00:00Z"),
            fill_price: fill.map(dec),
            filled_at: fill.map(|_| at("2026-11-25T10:00:01Z")),
            claimed: true,
        }
    }

    #[test]
    fn an_order_fills_a_second_after_it_was_handed_over_at_the_price_then() {
        let order = position("buy", None);
        let price = |_: &str| Some(dec("1.08600"));
        assert!(
            actions(
                std::slice::from_ref(&order),
                at("2026-11-25T10:00:00.5Z"),
                price
            )
            .is_empty()
        );
        assert_eq!(
            actions(&[order], at("2026-11-25T10:00:01Z"), price),
            [Action::Fill {
                order: uuid::Uuid::from_u128(1),
                price: dec("1.08600")
            }]
        );
        // Not before a bridge has claimed it.
        let unclaimed = Position {
            claimed: false,
            ..position("buy", None)
        };
        assert!(actions(&[unclaimed], at("2026-11-25T10:00:05Z"), price).is_empty());
    }

    #[test]
    fn positions_close_at_the_market_on_their_stop_their_first_target_or_their_time_limit() {
        let long = position("buy", Some("1.08600"));
        let now = at("2026-11-25T10:05:00Z");
        let closes =
            |p: &Position, price: &str| actions(std::slice::from_ref(p), now, |_| Some(dec(price)));
        // 0.5 lot of EURUSD: 20 pips = 0.0020 × 50 000 = 100.00 USD.
        assert_eq!(
            closes(&long, "1.08800"),
            [Action::Close {
                position: long.id,
                price: dec("1.08800"),
                pl: dec("100.00"),
                why: CloseReason::Target
            }]
        );
        // Past the stop, the market: 21 pips lost.
        assert_eq!(
            closes(&long, "1.08390"),
            [Action::Close {
                position: long.id,
                price: dec("1.08390"),
                pl: dec("-105.00"),
                why: CloseReason::Stop
            }]
        );
        // Gapped through the target: the better price.
        assert_eq!(
            closes(&long, "1.08900"),
            [Action::Close {
                position: long.id,
                price: dec("1.08900"),
                pl: dec("150.00"),
                why: CloseReason::Target
            }]
        );
        assert!(closes(&long, "1.08700").is_empty());
        let late = actions(
            std::slice::from_ref(&long),
            at("2026-11-25T10:30:01Z"),
            |_| Some(dec("1.08650")),
        );
        assert!(matches!(
            late[0],
            Action::Close {
                why: CloseReason::TimeLimit,
                ..
            }
        ));
        // A short mirrors it.
        let mut short = position("sell", Some("1.08600"));
        short.stop_loss = dec("1.08800");
        short.take_profit = vec![dec("1.08400")];
        assert!(matches!(
            closes(&short, "1.08380")[0],
            Action::Close {
                why: CloseReason::Target,
                ..
            }
        ));
    }

    #[test]
    fn the_account_values_open_positions_at_the_current_price() {
        let long = position("buy", Some("1.08600"));
        let pending = position("buy", None);
        let a = account(
            uuid::Uuid::nil(),
            dec("25000.00"),
            &[long, pending],
            at("2026-11-25T10:05:00Z"),
            |_| Some(dec("1.08700")),
        );
        assert_eq!(a.open_pl, dec("50.00"));
        assert_eq!(a.equity, dec("25050.00"));
        assert_eq!(a.open_positions, 1, "a pending order is not a position");
        // 0.5 × 100 000 × 1.087 ÷ 100 = 543.50 of margin.
        assert_eq!(a.margin_used, dec("543.50"));
        assert_eq!(a.margin_free, dec("24506.50"));
    }

    #[test]
    fn hold_limits_read_the_platforms_labels() {
        assert_eq!(hold_limit(Some("scalp_30m")), Duration::minutes(30));
        assert_eq!(hold_limit(Some("swing_1d")), Duration::days(1));
        assert_eq!(hold_limit(Some("swing_4h")), Duration::hours(4));
        assert_eq!(hold_limit(None), Duration::hours(1));
    }
}
