//! Text that tradedesk did not write, on its way to a terminal, and text typed in, on its
//! way to the database.
//!
//! Everything a row holds was written by someone tradedesk does not control: the platform
//! (whose rationales and headlines come from an AI that reads the news), or anyone with a
//! connection. A terminal acts on some characters instead of showing them — `ESC ] 52`
//! writes the clipboard, `ESC ] 0` the window title, C1 `CSI` is `ESC [` — and shows
//! others as nothing (zero-width spaces, tag characters) or lets them reorder what follows
//! (bidi overrides and isolates). Such a character, [`is_hidden`], never reaches a
//! terminal as itself:
//!
//! - [`line`]: a value shown on one line (a table cell, a name in a sentence, a CSV field's
//!   neighbour): every hidden character, the line break and the tab included, becomes a
//!   visible escape, `\u{202e}` — so nothing is silently dropped and a reader sees that
//!   something was there. Widths are then those of what is shown.
//! - [`lines`]: a block printed over several lines (a rationale): line breaks are kept,
//!   each followed by an indent so that no line of the block can pass for a line of the
//!   output around it; everything else hidden is escaped as by [`line`].
//! - [`json`]: a serialised JSON document: each hidden character inside a string becomes a
//!   JSON `\uXXXX` escape (a surrogate pair above U+FFFF), so the document stays exact — a
//!   script decoding it gets the original text back — while its bytes are harmless.
//!
//! The escape is not reversible, by choice: a backslash in the data is shown as it is, so a
//! value holding the six characters `\u{1b}` reads like one holding ESC. That confusion
//! can only make something visible, never hide it, and escaping every backslash would
//! garble paths and patterns in ordinary rationales. `--json` is the exact form.
//!
//! [`typed`] is the rule for text an operator types (a halt reason, a note, a rejection's
//! reason, a strategy's name): holding any hidden character, line breaks included, it is
//! refused, so that the append-only audit never stores what a terminal would act on.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};

/// Whether `c` must not reach a terminal as itself: a C0 or C1 control or DEL
/// (U+0000–U+001F, U+007F–U+009F: ESC among them), a format character (Unicode category
/// Cf: bidi overrides, isolates and marks, zero-width spaces and joiners, the soft hyphen,
/// the byte-order mark, tag characters…), the line and paragraph separators U+2028/U+2029,
/// or a Hangul filler (U+115F, U+1160, U+3164, U+FFA0: letters drawn as blanks).
pub fn is_hidden(c: char) -> bool {
    // Printable ASCII is nearly everything shown: no table look-up for it.
    if (' '..='~').contains(&c) {
        return false;
    }
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{ffa0}'
    ) || c.general_category() == GeneralCategory::Format
}

/// `text` for one line: every [`is_hidden`] character, line breaks and tabs included,
/// written as `\u{…}` (lowercase hex). Borrowed when there is none.
pub fn line(text: &str) -> Cow<'_, str> {
    escape(text, None)
}

/// `text` as a block of lines: line breaks kept, each followed by `indent`; every other
/// [`is_hidden`] character written as by [`line`]. Borrowed when there is none.
pub fn lines<'a>(text: &'a str, indent: &str) -> Cow<'a, str> {
    escape(text, Some(indent))
}

fn escape<'a>(text: &'a str, newline_indent: Option<&str>) -> Cow<'a, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match newline_indent {
            Some(indent) if c == '\n' => {
                out.push('\n');
                out.push_str(indent);
            }
            _ if is_hidden(c) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A JSON document as serde_json wrote it, with every [`is_hidden`] character inside its
/// strings written as a JSON `\uXXXX` escape (two, a surrogate pair, above U+FFFF): still
/// valid JSON that decodes to the same values. serde_json already escapes U+0000–U+001F
/// inside strings, so those left in the document are its own whitespace (pretty printing's
/// line breaks), and are kept; everything else hidden can only be inside a string, since a
/// document's structure is ASCII.
pub fn json(serialized: &str) -> Cow<'_, str> {
    let escaped = |c: char| c > '\u{1f}' && is_hidden(c);
    if !serialized.chars().any(escaped) {
        return Cow::Borrowed(serialized);
    }
    let mut out = String::with_capacity(serialized.len() + 16);
    for c in serialized.chars() {
        if escaped(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The first [`is_hidden`] character of `text`, and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hidden {
    pub found: char,
    /// Its place, counted in characters from 1.
    pub position: usize,
}

impl Hidden {
    /// The first hidden character of `text`, if any.
    pub fn find(text: &str) -> Option<Hidden> {
        text.chars()
            .enumerate()
            .find(|(_, c)| is_hidden(*c))
            .map(|(n, found)| Hidden {
                found,
                position: n + 1,
            })
    }

    /// What kind of character it is, in words.
    fn kind(self) -> &'static str {
        match self.found {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => "a line break",
            '\t' => "a tab",
            '\u{1b}' => "ESC, which starts a terminal's control sequences",
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => "a control character",
            '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{61c}' => "a bidi control, which reorders what follows it",
            _ => "an invisible character",
        }
    }
}

/// `U+202E (a bidi control, which reorders what follows it) at character 7`.
impl fmt::Display for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "U+{:04X} ({}) at character {}",
            u32::from(self.found),
            self.kind(),
            self.position
        )
    }
}

/// Text an operator types that is stored for others to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed {
    HaltReason,
    ResumeNote,
    RejectReason,
    StrategyName,
}

impl Typed {
    fn words(self) -> &'static str {
        match self {
            Typed::HaltReason => "the halt reason",
            Typed::ResumeNote => "the resume note",
            Typed::RejectReason => "the rejection's reason",
            Typed::StrategyName => "the strategy's name",
        }
    }

    /// What refusing it leaves undone, where that matters.
    fn undone(self) -> &'static str {
        match self {
            Typed::HaltReason => " (AI trading was not halted)",
            Typed::ResumeNote => " (AI trading was not resumed)",
            Typed::RejectReason => " (the idea was not rejected)",
            Typed::StrategyName => "",
        }
    }
}

/// Typed text refused by [`typed`]: one sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} holds {hidden}, which a terminal would act on or not show: nothing was written{}; \
     type it again without control, bidi or invisible characters",
    what.words(),
    what.undone()
)]
pub struct Refused {
    pub what: Typed,
    pub hidden: Hidden,
}

/// Refuses typed text holding any [`is_hidden`] character, a line break included: what is
/// typed is one line, shown to every operator and kept in the append-only audit.
pub fn typed(what: Typed, text: &str) -> Result<(), Refused> {
    match Hidden::find(text) {
        Some(hidden) => Err(Refused { what, hidden }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One of each class that must be escaped.
    const HIDDEN: &[char] = &[
        '\u{0}',
        '\u{7}',
        '\u{8}',
        '\t',
        '\n',
        '\r',
        '\u{1b}',
        '\u{1f}',
        '\u{7f}',
        '\u{80}',
        '\u{9b}',
        '\u{9f}',
        '\u{ad}',
        '\u{61c}',
        '\u{180e}',
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{200e}',
        '\u{200f}',
        '\u{202a}',
        '\u{202b}',
        '\u{202c}',
        '\u{202d}',
        '\u{202e}',
        '\u{2028}',
        '\u{2029}',
        '\u{2060}',
        '\u{2061}',
        '\u{2062}',
        '\u{2063}',
        '\u{2064}',
        '\u{2066}',
        '\u{2067}',
        '\u{2068}',
        '\u{2069}',
        '\u{feff}',
        '\u{fff9}',
        '\u{fffa}',
        '\u{fffb}',
        '\u{115f}',
        '\u{1160}',
        '\u{3164}',
        '\u{ffa0}',
        '\u{110bd}',
        '\u{1d173}',
        '\u{1d17a}',
        '\u{e0001}',
        '\u{e0020}',
        '\u{e0041}',
        '\u{e007f}',
    ];

    /// Characters that are shown as themselves.
    const SHOWN: &[char] = &[
        ' ', 'a', '~', '\\', '"', 'é', '€', '—', '…', '▶', '█', '日', '🙂', '\u{301}', '\u{fe0f}',
        '\u{a0}', '\u{3000}',
    ];

    #[test]
    fn every_class_is_hidden_and_ordinary_text_is_not() {
        for c in HIDDEN {
            assert!(is_hidden(*c), "U+{:04X} must be hidden", u32::from(*c));
        }
        for c in SHOWN {
            assert!(!is_hidden(*c), "U+{:04X} must be shown", u32::from(*c));
        }
    }

    #[test]
    fn a_line_escapes_each_class_visibly() {
        assert_eq!(
            line("\u{1b}]52;c;ZXZpbA==\u{7}"),
            "\\u{1b}]52;c;ZXZpbA==\\u{7}"
        );
        assert_eq!(line("\u{1b}]0;pwned\u{7}"), "\\u{1b}]0;pwned\\u{7}");
        assert_eq!(line("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(line("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(line("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(line("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(line("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(line("\u{feff}bom"), "\\u{feff}bom");
        assert_eq!(line("a\r\nb\tc"), "a\\u{d}\\u{a}b\\u{9}c");
        assert_eq!(line("tag\u{e0041}"), "tag\\u{e0041}");
        assert_eq!(line("\u{3164}"), "\\u{3164}");
    }

    #[test]
    fn plain_text_is_borrowed_as_it_is_backslashes_included() {
        for s in [
            "",
            "EURUSD",
            "C:\\data\\x",
            "\\u{202e} typed by hand",
            "café 日本 🙂",
        ] {
            assert!(matches!(line(s), Cow::Borrowed(_)), "{s}");
            assert!(matches!(lines(s, "  "), Cow::Borrowed(_)), "{s}");
            assert!(matches!(json(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn a_block_keeps_its_line_breaks_indented_and_escapes_the_rest() {
        assert_eq!(
            lines("first\nsecond\r\n\u{202e}third", "    "),
            "first\n    second\\u{d}\n    \\u{202e}third"
        );
    }

    #[test]
    fn what_is_shown_is_as_wide_as_its_characters() {
        let shown = line("ab\u{200b}\u{202e}c");
        assert_eq!(shown, "ab\\u{200b}\\u{202e}c");
        let width = ratatui::text::Span::raw(shown.as_ref()).width();
        assert_eq!(width, shown.chars().count());
        // The hidden characters themselves were as wide as nothing.
        assert_eq!(ratatui::text::Span::raw("ab\u{200b}\u{202e}c").width(), 3);
    }

    #[test]
    fn json_escapes_inside_strings_and_decodes_to_the_original() {
        let original = "a\u{9b}b\u{202e}c\u{200b}d\u{feff}e\u{7f}f\u{e0041}g\u{2028}h\u{1b}i";
        let serialized =
            serde_json::to_string_pretty(&serde_json::json!({"text": original})).unwrap();
        let shown = json(&serialized);
        assert!(shown.contains("\\u009b"), "{shown}");
        assert!(shown.contains("\\u202e"), "{shown}");
        assert!(
            shown.contains("\\udb40\\udc41"),
            "a surrogate pair: {shown}"
        );
        assert!(
            !shown.chars().any(|c| c > '\u{1f}' && is_hidden(c)),
            "{shown}"
        );
        // Pretty printing's line breaks are the document's, kept.
        assert!(shown.contains('\n'));
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back["text"], original);
    }

    #[test]
    fn typed_text_is_refused_with_the_character_named() {
        assert_eq!(typed(Typed::HaltReason, "lunch break"), Ok(()));
        assert_eq!(typed(Typed::StrategyName, "London breakout — v2"), Ok(()));
        let e = typed(Typed::HaltReason, "lunch\u{202e}kaerb").unwrap_err();
        assert_eq!(e.hidden.position, 6);
        let said = e.to_string();
        assert!(
            said.starts_with("the halt reason holds U+202E (a bidi control"),
            "{said}"
        );
        assert!(said.contains("AI trading was not halted"), "{said}");
        assert!(
            !said.contains('\u{202e}'),
            "the refusal shows nothing hidden: {said}"
        );
        let e = typed(Typed::RejectReason, "two\nlines").unwrap_err();
        assert!(
            e.to_string()
                .contains("U+000A (a line break) at character 4")
        );
        let e = typed(Typed::ResumeNote, "\u{1b}]0;x\u{7}").unwrap_err();
        assert!(e.to_string().contains("U+001B (ESC"));
        let e = typed(Typed::StrategyName, "a\u{200b}").unwrap_err();
        assert!(e.to_string().contains("U+200B (an invisible character)"));
    }

    proptest! {
        /// Whatever the text, nothing hidden is left on one line, a block keeps only its
        /// line breaks, plain text is kept as it is, and JSON decodes back exactly.
        #[test]
        fn nothing_hidden_survives_and_json_round_trips(
            text in proptest::collection::vec(
                prop_oneof![
                    4 => any::<char>(),
                    1 => proptest::sample::select(HIDDEN.to_vec()),
                ],
                0..40,
            ).prop_map(|chars| chars.into_iter().collect::<String>())
        ) {
            let one = line(&text);
            prop_assert!(!one.chars().any(is_hidden));
            let block = lines(&text, "  ");
            prop_assert!(!block.chars().any(|c| c != '\n' && is_hidden(c)));
            prop_assert_eq!(block.matches('\n').count(), text.matches('\n').count());
            if !text.chars().any(is_hidden) {
                prop_assert_eq!(one.as_ref(), text.as_str());
            }
            let serialized = serde_json::to_string(&text).unwrap();
            let shown = json(&serialized);
            prop_assert!(!shown.chars().any(is_hidden));
            let back: String = serde_json::from_str(&shown).unwrap();
            prop_assert_eq!(back, text);
        }
    }
}
