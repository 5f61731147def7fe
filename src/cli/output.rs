//! Printing: text for people, JSON for scripts, and the small formats both share.
//!
//! Nothing tradedesk did not write reaches the terminal as itself (`domain::text`): a
//! table's cells and a CSV's fields are escaped here, the JSON after serialisation, and
//! every other print shows a row's text through `text::line` (or `text::lines`, for a
//! block such as a rationale).

use std::io::Write;

use comfy_table::{Cell, CellAlignment, ContentArrangement, presets};
use serde::Serialize;

use super::Failure;
use crate::domain::stored::Flagged;
use crate::domain::text;
use crate::format::ShortIds;
use crate::store::ErrorCode;

/// Whether to print JSON.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
}

impl Out {
    /// `value` as pretty JSON, every hidden character inside its strings a `\uXXXX`
    /// escape: exact for a script, harmless on a terminal.
    pub fn json<T: Serialize>(&self, value: &T) -> Result<(), Failure> {
        println!("{}", text::json(&serde_json::to_string_pretty(value)?));
        Ok(())
    }

    /// A report as one JSON document on standard output, whether or not the command
    /// failed: with `failure` it carries the error a script looks for under "error", and
    /// the process then exits with the failure's status (its connections closed first).
    pub async fn json_report(
        &self,
        mut value: serde_json::Value,
        failure: Option<Failure>,
    ) -> Result<(), Failure> {
        let Some(failure) = failure else {
            return self.json(&value);
        };
        value["error"] =
            serde_json::json!({"code": failure.code.as_str(), "message": failure.message});
        self.json(&value)?;
        super::close_opened().await;
        std::process::exit(failure.code.exit_status());
    }
}

/// A failed write of output (a reader closing the pipe ends the process on SIGPIPE before
/// this is ever reached; see `src/main.rs`). Exit status 1, like any other failure that is
/// not the operator's input.
pub fn write_failed(e: impl std::fmt::Display) -> Failure {
    Failure::new(
        ErrorCode::Database,
        format!("cannot write to standard output: {e}"),
    )
}

/// Writes `bytes` to standard output as they are (a completion script, a man page).
pub fn print_bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(write_failed)
}

/// How a column's cells line up: numbers to the right, words to the left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table for people: a header row, columns two spaces apart, no borders, and nothing
/// wrapped or cut, so every value (a price, an id, a rationale) is printed whole.
pub struct Table(comfy_table::Table);

impl Table {
    /// A table with these columns, named in the header row.
    pub fn new(columns: &[(&str, Align)]) -> Self {
        let mut table = comfy_table::Table::new();
        table
            .load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(columns.iter().map(|(name, _)| *name));
        for (column, (_, align)) in table.column_iter_mut().zip(columns) {
            column.set_cell_alignment(match align {
                Align::Left => CellAlignment::Left,
                Align::Right => CellAlignment::Right,
            });
        }
        // Flush with the left margin like every other line tradedesk prints: the one
        // space of padding on each side is kept only between columns.
        if let Some(first) = table.column_mut(0) {
            first.set_padding((0, 1));
        }
        Self(table)
    }

    /// Adds a row, one cell per column, each shown on one line (`text::line`): the
    /// columns are as wide as what is shown.
    pub fn row<I>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.0.add_row(
            cells
                .into_iter()
                .map(|cell| Cell::new(text::line(cell.as_ref()))),
        );
        self
    }

    /// The table as lines, each starting with `indent` and ending in a line break, without
    /// the trailing blanks a borderless last column leaves.
    pub fn render(&self, indent: &str) -> String {
        self.0
            .lines()
            .map(|line| format!("{indent}{}\n", line.trim_end()))
            .collect()
    }

    /// Prints the table flush left.
    pub fn print(&self) {
        print!("{}", self.render(""));
    }
}

/// Writes `header` and `rows` as CSV (RFC 4180 quoting: a field holding a comma, quote
/// or line break is quoted, its quotes doubled), one record a line. A field keeps its line
/// breaks (quoted, they are part of it); every other hidden character is escaped
/// (`text::lines`): CSV is read on terminals too. `--json` is the exact form.
pub fn write_csv<W, R>(to: W, header: &[&str], rows: R) -> Result<(), Failure>
where
    W: Write,
    R: IntoIterator,
    R::Item: IntoIterator,
    <R::Item as IntoIterator>::Item: AsRef<str>,
{
    let mut writer = csv::Writer::from_writer(to);
    writer.write_record(header).map_err(write_failed)?;
    for row in rows {
        let fields: Vec<String> = row
            .into_iter()
            .map(|field| text::lines(field.as_ref(), "").into_owned())
            .collect();
        writer.write_record(&fields).map_err(write_failed)?;
    }
    writer.flush().map_err(write_failed)
}

/// The status cell of a row that cannot be read.
pub const UNREADABLE: &str = "UNREADABLE";

/// After a table: each row that cannot be read, with its id as the table showed it
/// (`shown`) and why, and the command that shows one whole, if any (`ideas show`).
pub fn print_unreadable<'a>(
    rows: impl Iterator<Item = &'a Flagged>,
    shown: &ShortIds,
    show: Option<&str>,
) {
    let rows: Vec<&Flagged> = rows.collect();
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "{} row{} of {} cannot be read{}:",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        rows[0].table,
        show.map(|s| format!(" (`tradedesk {s} ID` shows one as stored)"))
            .unwrap_or_default()
    );
    for f in rows {
        println!("  {}  {}", shown.of(f.id), text::line(&f.reason()));
    }
}

/// A row that cannot be read, whole: each column as stored, and why it cannot be read.
pub fn show_flagged(out: Out, f: &Flagged) -> Result<(), Failure> {
    if out.json {
        return out.json(&serde_json::json!({ "unreadable": f }));
    }
    println!(
        "UNREADABLE {} {} cannot be read: {}",
        f.table,
        f.id,
        text::line(&f.reason())
    );
    let width = f.columns.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    for (column, value) in &f.columns {
        println!("{column:width$}  {}", text::line(value));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_with_a_comma_a_quote_and_a_line_break_round_trips_through_csv() {
        let awkward = "too, \"risky\"\nsaid the desk";
        let mut bytes = Vec::new();
        write_csv(
            &mut bytes,
            &["name", "rationale"],
            [["first", awkward], ["second", "plain"]],
        )
        .unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains("\"too, \"\"risky\"\"\nsaid the desk\""),
            "{text}"
        );

        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(
            reader.headers().unwrap(),
            &csv::StringRecord::from(vec!["name", "rationale"])
        );
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 2);
        assert_eq!(&records[0][1], awkward);
        assert_eq!(&records[1][1], "plain");
    }

    #[test]
    fn a_table_has_a_header_aligned_columns_and_no_trailing_blanks() {
        let mut table = Table::new(&[("ID", Align::Left), ("PRICE", Align::Right)]);
        table.row(["a", "2648.5"]).row(["bbbbbbb", "1.123456"]);
        assert_eq!(
            table.render(""),
            "ID          PRICE\n\
             a          2648.5\n\
             bbbbbbb  1.123456\n"
        );
        assert_eq!(
            table.render("  ").lines().next(),
            Some("  ID          PRICE")
        );
    }

    #[test]
    fn a_table_shows_hidden_characters_escaped_and_sizes_columns_on_what_is_shown() {
        let mut table = Table::new(&[("NAME", Align::Left), ("N", Align::Right)]);
        table
            .row(["\u{1b}]0;pwned\u{7}", "1"])
            .row(["ab\u{202e}c\u{200b}", "22"]);
        assert_eq!(
            table.render(""),
            "NAME                  N\n\
             \\u{1b}]0;pwned\\u{7}   1\n\
             ab\\u{202e}c\\u{200b}  22\n"
        );
    }

    #[test]
    fn a_csv_field_keeps_its_line_breaks_and_escapes_the_rest() {
        let mut bytes = Vec::new();
        write_csv(
            &mut bytes,
            &["rationale"],
            [["one\r\ntwo \u{1b}[2J \u{9b}31m"]],
        )
        .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "rationale\n\"one\\u{d}\ntwo \\u{1b}[2J \\u{9b}31m\"\n"
        );
    }

    #[test]
    fn a_table_never_wraps_or_cuts_a_long_value() {
        let long = "x".repeat(400);
        let mut table = Table::new(&[("RATIONALE", Align::Left)]);
        table.row([long.as_str()]);
        assert_eq!(table.render(""), format!("RATIONALE\n{long}\n"));
    }
}
