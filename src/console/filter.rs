//! The `/` filters of the ideas and timeline panes: typed as `key:value` words, shown
//! back the same way.

use chrono::{DateTime, Utc};

use super::app::{IDEAS_WINDOW, TIMELINE_PAGE};
use crate::domain::label::labels;
use crate::domain::{DecisionAction, IdeaStatus};
use crate::format::parse_time;
use crate::store::ideas::IdeaFilter;
use crate::store::timeline::TimelineFilter;

pub fn describe_idea_filter(f: &IdeaFilter) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &f.symbol {
        parts.push(format!("symbol:{s}"));
    }
    if let Some(s) = &f.status {
        parts.push(format!("status:{s}"));
    }
    parts.join(" ")
}

/// `symbol:EURUSD status:rejected`, or a bare word for the symbol; empty clears.
pub fn parse_idea_filter(text: &str) -> Result<IdeaFilter, String> {
    let mut filter = IdeaFilter {
        limit: IDEAS_WINDOW,
        ..IdeaFilter::default()
    };
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some(("symbol", v)) => filter.symbol = Some(v.to_ascii_uppercase()),
            Some(("status", v)) => match v.parse::<IdeaStatus>() {
                Ok(status) => filter.status = Some(status),
                Err(_) => {
                    return Err(format!(
                        "`{v}` is not an idea status: use one of {}",
                        labels(IdeaStatus::ALL)
                    ));
                }
            },
            Some((k, _)) => {
                return Err(format!(
                    "`{k}` is not an idea filter: use symbol:X or status:S"
                ));
            }
            None => filter.symbol = Some(word.to_ascii_uppercase()),
        }
    }
    Ok(filter)
}

pub fn describe_timeline_filter(f: &TimelineFilter) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &f.symbol {
        parts.push(format!("symbol:{s}"));
    }
    if let Some(s) = &f.action {
        parts.push(format!("action:{s}"));
    }
    if let Some(s) = &f.operator {
        parts.push(format!("operator:{s}"));
    }
    if let Some(t) = f.since {
        parts.push(format!("since:{}", t.format("%Y-%m-%dT%H:%M:%SZ")));
    }
    if let Some(t) = f.until {
        parts.push(format!("until:{}", t.format("%Y-%m-%dT%H:%M:%SZ")));
    }
    parts.join(" ")
}

/// `symbol:EURUSD action:human_rejected operator:ann@desk since:2h until:2026-11-25`;
/// empty clears.
pub fn parse_timeline_filter(text: &str, now: DateTime<Utc>) -> Result<TimelineFilter, String> {
    let mut filter = TimelineFilter {
        limit: TIMELINE_PAGE,
        ..TimelineFilter::default()
    };
    let time = |v: &str| parse_time(v, now).map_err(|e| e.to_string());
    for word in text.split_whitespace() {
        match word.split_once(':') {
            Some(("symbol", v)) => filter.symbol = Some(v.to_ascii_uppercase()),
            Some(("action", v)) => match v.parse::<DecisionAction>() {
                Ok(action) => filter.action = Some(action),
                Err(_) => {
                    return Err(format!(
                        "`{v}` is not a decision action: use one of {}",
                        labels(DecisionAction::ALL)
                    ));
                }
            },
            Some(("operator", v)) => filter.operator = Some(v.to_string()),
            Some(("since", v)) => filter.since = Some(time(v)?),
            Some(("until", v)) => filter.until = Some(time(v)?),
            _ => {
                return Err(format!(
                    "`{word}` is not a timeline filter: use symbol:X action:A operator:O since:T until:T"
                ));
            }
        }
    }
    Ok(filter)
}
