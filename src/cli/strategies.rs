//! `tradedesk strategies …`.

use std::io::Read as _;

use serde_json::json;

use super::output::Out;
use super::{Failure, StrategiesCommand, open};
use crate::domain::Strategy;
use crate::domain::strategy::document::parse_documents;
use crate::format::short;
use crate::operator::Operator;
use crate::store::{ErrorCode, Target};

pub async fn run(target: &Target, out: Out, command: StrategiesCommand) -> Result<(), Failure> {
    // Read and check an import before connecting: a bad file is refused even offline.
    let specs = match &command {
        StrategiesCommand::Import { file } => {
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
            Some(parse_documents(&text).map_err(crate::store::Error::from)?)
        }
        _ => None,
    };
    let store = open(target).await?;
    let operator = Operator::from_os();
    match command {
        StrategiesCommand::List => {
            let all = store.strategies().await?;
            if out.json {
                return out.json(&all.iter().map(Strategy::to_document).collect::<Vec<_>>());
            }
            if all.is_empty() {
                println!("No strategies.");
            }
            for s in &all {
                println!(
                    "{}  {:<8}  {:<28}  {}",
                    short(s.id),
                    if s.is_active { "active" } else { "disabled" },
                    s.name,
                    s.allowed_symbols.join(",")
                );
            }
        }
        StrategiesCommand::Show { id } => {
            let s = store.strategy(store.resolve_strategy(&id).await?).await?;
            if out.json {
                return out.json(&s.to_document());
            }
            println!("Strategy   {} ({})", s.name, s.id);
            println!(
                "State      {}",
                if s.is_active { "active" } else { "disabled" }
            );
            println!("Symbols    {}", s.allowed_symbols.join(", "));
            println!("R:R        {}", s.rr_expectation);
            match &s.rules {
                Ok(rules) => {
                    let words = rules.in_words();
                    println!("Sessions   {}", words.sessions);
                    println!("Caps       {}", words.caps);
                    println!("News       {}", words.news);
                    println!("Entry      {}", words.entry);
                    println!("Exit       {}", words.exits);
                    for note in &words.notes {
                        println!("NOTE       {note}");
                    }
                }
                Err(e) => println!("WARNING    {e}; the Gate refuses its ideas"),
            }
            for (name, value) in [
                ("session_windows", &s.documents.session_windows),
                ("entry_conditions", &s.documents.entry_conditions),
                ("exit_rules", &s.documents.exit_rules),
                ("forbidden_conditions", &s.documents.forbidden_conditions),
                ("risk_caps", &s.documents.risk_caps),
            ] {
                println!("{name}: {}", serde_json::to_string_pretty(value)?);
            }
        }
        StrategiesCommand::Enable { id } => toggle(&store, out, &id, true, &operator).await?,
        StrategiesCommand::Disable { id } => toggle(&store, out, &id, false, &operator).await?,
        StrategiesCommand::Delete { id } => {
            let id = store.resolve_strategy(&id).await?;
            let deleted = store.delete_strategy(id, &operator).await?;
            if out.json {
                return out.json(&json!({"deleted": deleted.id, "name": deleted.name}));
            }
            println!(
                "Deleted strategy \"{}\" ({}).",
                deleted.name,
                short(deleted.id)
            );
        }
        StrategiesCommand::Import { .. } => {
            let imported = store
                .import_strategies(specs.as_deref().unwrap_or_default(), &operator)
                .await?;
            if out.json {
                return out.json(&imported);
            }
            for i in imported {
                println!(
                    "{} strategy \"{}\" ({})",
                    capitalise(i.outcome.as_str()),
                    i.name,
                    short(i.id)
                );
            }
            for note in specs.iter().flatten().flat_map(|s| &s.notes) {
                println!("  note: {note}");
            }
        }
        StrategiesCommand::Export { id } => {
            let docs = match id {
                Some(id) => vec![
                    store
                        .strategy(store.resolve_strategy(&id).await?)
                        .await?
                        .to_document(),
                ],
                None => store
                    .strategies()
                    .await?
                    .iter()
                    .map(Strategy::to_document)
                    .collect(),
            };
            out.json(&json!({ "strategies": docs }))?;
        }
    }
    Ok(())
}

async fn toggle(
    store: &crate::store::Store,
    out: Out,
    id: &str,
    active: bool,
    operator: &Operator,
) -> Result<(), Failure> {
    let id = store.resolve_strategy(id).await?;
    let (s, changed) = store.set_strategy_active(id, active, operator).await?;
    if out.json {
        return out.json(
            &json!({"id": s.id, "name": s.name, "is_active": s.is_active, "changed": changed}),
        );
    }
    let state = if active { "enabled" } else { "disabled" };
    if changed {
        println!("Strategy \"{}\" {state}.", s.name);
    } else {
        println!("Strategy \"{}\" was already {state}.", s.name);
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
