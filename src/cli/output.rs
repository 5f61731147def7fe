//! Printing: text for people, JSON for scripts, and the small formats both share.

use serde::Serialize;

use super::Failure;

/// Whether to print JSON.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn json<T: Serialize>(&self, value: &T) -> Result<(), Failure> {
        println!("{}", serde_json::to_string_pretty(value)?);
        Ok(())
    }
}

/// A field for CSV (RFC 4180): quoted when it holds a comma, quote or line break.
pub fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
