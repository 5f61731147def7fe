//! `tradedesk strategies …`.

use std::io::Read as _;
use std::path::Path;

use serde_json::json;

use super::output::UNREADABLE;
use super::output::{Align, Out, Table};
use super::{Failure, StrategiesCommand, open};
use crate::domain::Strategy;
use crate::domain::stored::Listed;
use crate::domain::strategy::document::{StrategySpec, parse_documents};
use crate::domain::text;
use crate::format::{ShortIds, short};
use crate::operator::Operator;
use crate::store::{ErrorCode, Store, Target};

pub async fn run(target: &Target, out: Out, command: StrategiesCommand) -> Result<(), Failure> {
    match command {
        StrategiesCommand::List => list(&open(target).await?, out).await,
        StrategiesCommand::Show { id } => show(&open(target).await?, out, &id).await,
        StrategiesCommand::Enable { id } => {
            let (store, operator) = acting(target).await?;
            toggle(&store, &operator, out, &id, true).await
        }
        StrategiesCommand::Disable { id } => {
            let (store, operator) = acting(target).await?;
            toggle(&store, &operator, out, &id, false).await
        }
        StrategiesCommand::Delete { id } => {
            let (store, operator) = acting(target).await?;
            delete(&store, &operator, out, &id).await
        }
        StrategiesCommand::Import { file } => {
            // Read and check the file before connecting: a bad file is refused even offline.
            let specs = read_import(&file)?;
            let (store, operator) = acting(target).await?;
            import(&store, &operator, out, &specs).await
        }
        StrategiesCommand::Export { id } => export(&open(target).await?, out, id.as_deref()).await,
    }
}

fn state(s: &Strategy) -> &'static str {
    if s.is_active { "active" } else { "disabled" }
}

async fn list(store: &Store, out: Out) -> Result<(), Failure> {
    let all = store.strategies().await?;
    if out.json {
        let shown: Vec<serde_json::Value> = all
            .iter()
            .map(|s| match s {
                Listed::Read(s) => s.to_document(),
                Listed::Flagged(f) => json!({ "unreadable": f }),
            })
            .collect();
        return out.json(&shown);
    }
    if all.is_empty() {
        println!("No strategies.");
        return Ok(());
    }
    let shown = ShortIds::new(all.iter().map(Listed::id));
    let mut table = Table::new(&[
        ("ID", Align::Left),
        ("STATE", Align::Left),
        ("NAME", Align::Left),
        ("SYMBOLS", Align::Left),
    ]);
    for s in &all {
        match s {
            Listed::Read(s) => table.row([
                shown.of(s.id),
                state(s).to_string(),
                s.name.clone(),
                s.allowed_symbols.join(","),
            ]),
            Listed::Flagged(f) => table.row([
                shown.of(f.id),
                UNREADABLE.to_string(),
                f.column("name").unwrap_or_default().to_string(),
                f.column("allowed_symbols").unwrap_or_default().to_string(),
            ]),
        };
    }
    table.print();
    super::output::print_unreadable(
        all.iter().filter_map(Listed::flagged),
        &shown,
        Some("strategies show"),
    );
    Ok(())
}

async fn show(store: &Store, out: Out, id: &str) -> Result<(), Failure> {
    let s = match store
        .strategy_listed(store.resolve_strategy(id).await?)
        .await?
    {
        Listed::Read(s) => s,
        Listed::Flagged(f) => return super::output::show_flagged(out, &f),
    };
    if out.json {
        return out.json(&s.to_document());
    }
    println!("Strategy   {} ({})", text::line(&s.name), s.id);
    println!("State      {}", state(&s));
    println!("Symbols    {}", text::line(&s.allowed_symbols.join(", ")));
    println!("R:R        {}", s.rr_expectation);
    match &s.rules {
        Ok(rules) => {
            // The words quote the documents, which anyone with a connection writes.
            let words = rules.in_words();
            println!("Sessions   {}", text::line(&words.sessions));
            println!("Caps       {}", text::line(&words.caps));
            println!("News       {}", text::line(&words.news));
            println!("Entry      {}", text::line(&words.entry));
            println!("Exit       {}", text::line(&words.exits));
            for note in &words.notes {
                println!("NOTE       {}", text::line(note));
            }
        }
        Err(e) => println!(
            "WARNING    {}; the Gate refuses its ideas",
            text::line(&e.to_string())
        ),
    }
    for (name, value) in [
        ("session_windows", &s.documents.session_windows),
        ("entry_conditions", &s.documents.entry_conditions),
        ("exit_rules", &s.documents.exit_rules),
        ("forbidden_conditions", &s.documents.forbidden_conditions),
        ("risk_caps", &s.documents.risk_caps),
    ] {
        println!(
            "{name}: {}",
            text::json(&serde_json::to_string_pretty(value)?)
        );
    }
    Ok(())
}

/// The store, and who acts on it.
async fn acting(target: &Target) -> Result<(Store, Operator), Failure> {
    let store = open(target).await?;
    let operator = super::login::identity(&store, target).await?;
    Ok((store, operator))
}

async fn delete(store: &Store, operator: &Operator, out: Out, id: &str) -> Result<(), Failure> {
    let id = store.resolve_strategy(id).await?;
    let deleted = store.delete_strategy(id, operator).await?;
    if out.json {
        return out.json(&json!({"deleted": deleted.id, "name": deleted.name}));
    }
    println!(
        "Deleted strategy \"{}\" ({}).",
        text::line(&deleted.name),
        short(deleted.id)
    );
    Ok(())
}

/// The strategies in an import file (`-` for standard input), every rule checked.
fn read_import(file: &Path) -> Result<Vec<StrategySpec>, Failure> {
    let text = if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            Failure::new(
                ErrorCode::InvalidInput,
                format!("cannot read standard input: {e}"),
            )
        })?;
        text
    } else {
        std::fs::read_to_string(file).map_err(|e| {
            Failure::new(
                ErrorCode::InvalidInput,
                format!("cannot read {}: {e}", file.display()),
            )
        })?
    };
    Ok(parse_documents(&text).map_err(crate::store::Error::from)?)
}

async fn import(
    store: &Store,
    operator: &Operator,
    out: Out,
    specs: &[StrategySpec],
) -> Result<(), Failure> {
    let imported = store.import_strategies(specs, operator).await?;
    if out.json {
        return out.json(&imported);
    }
    let shown = ShortIds::new(imported.iter().map(|i| i.id));
    for i in &imported {
        println!(
            "{} strategy \"{}\" ({})",
            capitalise(i.outcome.as_str()),
            text::line(&i.name),
            shown.of(i.id)
        );
    }
    for note in specs.iter().flat_map(|s| &s.notes) {
        println!("  note: {}", text::line(note));
    }
    Ok(())
}

async fn export(store: &Store, out: Out, id: Option<&str>) -> Result<(), Failure> {
    let docs = match id {
        Some(id) => vec![
            store
                .strategy(store.resolve_strategy(id).await?)
                .await?
                .to_document(),
        ],
        // An export is an import file: a row that cannot be read is no document, and is
        // said on standard error instead.
        None => {
            let all = store.strategies().await?;
            let shown = ShortIds::new(all.iter().filter_map(Listed::flagged).map(|f| f.id));
            all.iter()
                .filter_map(|s| match s {
                    Listed::Read(s) => Some(s.to_document()),
                    Listed::Flagged(f) => {
                        eprintln!(
                            "tradedesk: strategy {} left out of the export: it cannot be read \
                             ({})",
                            shown.of(f.id),
                            text::line(&f.reason())
                        );
                        None
                    }
                })
                .collect()
        }
    };
    out.json(&json!({ "strategies": docs }))
}

async fn toggle(
    store: &Store,
    operator: &Operator,
    out: Out,
    id: &str,
    active: bool,
) -> Result<(), Failure> {
    let id = store.resolve_strategy(id).await?;
    let (s, changed) = store.set_strategy_active(id, active, operator).await?;
    if out.json {
        return out.json(
            &json!({"id": s.id, "name": s.name, "is_active": s.is_active, "changed": changed}),
        );
    }
    let state = if active { "enabled" } else { "disabled" };
    let name = text::line(&s.name);
    if changed {
        println!("Strategy \"{name}\" {state}.");
    } else {
        println!("Strategy \"{name}\" was already {state}.");
    }
    Ok(())
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
