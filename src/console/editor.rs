//! Editing a strategy's rules in `$EDITOR`, as `git commit` does: the document is opened
//! in the editor; invalid rules reopen it with the problems written at the top; nothing
//! reaches the database until the rules are valid or the edit is abandoned.

use std::process::Command;

use uuid::Uuid;

use super::app::failed;
use super::msg::{Done, Msg};
use crate::domain::Act;
use crate::domain::strategy::document::{DocumentError, parse_documents};
use crate::operator::Operator;
use crate::store::strategies::ImportOutcome;
use crate::store::{Error, Store};

/// Lines starting with this are the editor's notes and are ignored when reading back.
const NOTE: &str = "//";

/// The editor to run: `$VISUAL`, else `$EDITOR`, else `vi`.
fn editor() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| "vi".to_string())
}

fn strip_notes(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with(NOTE))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the editor on `path` and waits for it (blocking: call from `spawn_blocking`).
fn run_editor(path: &std::path::Path) -> Result<(), String> {
    let editor = editor();
    // The editor may carry arguments (`code --wait`): let the shell split them.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path)
        .status()
        .map_err(|e| format!("cannot start the editor `{editor}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the editor `{editor}` failed ({status})"))
    }
}

/// Opens strategy `id` in the editor until its rules are valid (then saves them, in one
/// transaction with their audit row) or the operator leaves them unchanged or empty.
pub async fn edit_strategy(store: &Store, id: Uuid, operator: &Operator) -> Msg {
    match edit(store, id, operator).await {
        Ok(done) => Msg::Done(done),
        Err(e) => failed(Act::EditStrategy, &e),
    }
}

async fn edit(store: &Store, id: Uuid, operator: &Operator) -> Result<Done, Error> {
    let strategy = store.strategy(id).await?;
    // Opened in a terminal editor: hidden characters of the documents as JSON escapes
    // (read back exactly), of the name as visible ones.
    let original = crate::domain::text::json(
        &serde_json::to_string_pretty(&strategy.to_document()).unwrap_or_default(),
    )
    .into_owned();
    let dir = tempfile::Builder::new()
        .prefix("tradedesk-strategy-")
        .tempdir()
        .map_err(|e| Error::Refused(format!("cannot make a temporary file: {e}")))?;
    let path = dir.path().join("strategy.json");
    let mut notes = vec![
        format!(
            "{NOTE} Edit the rules of \"{}\", save and quit to apply.",
            crate::domain::text::line(&strategy.name)
        ),
        format!(
            "{NOTE} Leave it unchanged or empty to abandon. Lines starting with {NOTE} are ignored."
        ),
    ];
    let mut text = original.clone();
    loop {
        let edited = open_in_editor(&path, &notes, &text).await?;
        if edited.trim().is_empty() || edited.trim() == original.trim() {
            return Ok(Done::StrategyEditAbandoned {
                name: strategy.name,
            });
        }
        match parse_documents(&edited) {
            Ok(mut specs) if specs.len() == 1 => {
                // The edit is of this strategy, whatever id the text now carries.
                specs[0].id = Some(id);
                let imported = store.import_strategies(&specs, operator).await?;
                return Ok(Done::StrategyEdited {
                    name: specs[0].name.clone(),
                    changed: imported
                        .iter()
                        .any(|i| i.outcome != ImportOutcome::Unchanged),
                });
            }
            Ok(_) => {
                notes = vec![format!(
                    "{NOTE} ERROR: the file must hold exactly one strategy object."
                )];
            }
            Err(e) => notes = problem_notes(&e),
        }
        text = edited;
    }
}

/// Writes `notes` and `text` to `path`, runs the editor on it, and reads back what was
/// saved without the notes.
async fn open_in_editor(
    path: &std::path::Path,
    notes: &[String],
    text: &str,
) -> Result<String, Error> {
    let body = format!("{}\n{text}\n", notes.join("\n"));
    std::fs::write(path, body)
        .map_err(|e| Error::Refused(format!("cannot write {}: {e}", path.display())))?;
    let run = {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || run_editor(&path)).await
    };
    match run {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(Error::Refused(e)),
        Err(e) => return Err(Error::Refused(e.to_string())),
    }
    std::fs::read_to_string(path)
        .map(|t| strip_notes(&t))
        .map_err(|e| Error::Refused(format!("cannot read {}: {e}", path.display())))
}

/// The problems of rules that were not saved, as notes at the top of the file.
fn problem_notes(e: &DocumentError) -> Vec<String> {
    let mut notes = vec![format!(
        "{NOTE} The rules were not saved; fix these and save again (or empty the file to abandon):"
    )];
    let message = e.to_string();
    let message = message
        .strip_prefix("nothing was imported: ")
        .unwrap_or(&message);
    // A problem may quote what was written: shown, not obeyed, in the editor too.
    notes.extend(
        message
            .split("; ")
            .map(|p| format!("{NOTE}   - {}", crate::domain::text::line(p))),
    );
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_ignored_when_reading_back() {
        assert_eq!(strip_notes("// a\n{\"x\": 1}\n  // b\n"), "{\"x\": 1}");
    }
}
