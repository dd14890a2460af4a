//! In words, what a change to the mappings does to data already migrated, for `pgshred diff`: the
//! reviewer of a pull request reads what `apply` will do (a new table and a backfill, a column added
//! or retyped, an entity to re-migrate with `--remap`) before reading the SQL.

use std::collections::BTreeMap;

use crate::artifacts::Files;
use crate::compiled::versions;
use crate::ir::{Column, Entity, Plan};
use crate::versions::Versions;

/// One sentence per entity the change affects; empty when data already migrated is unaffected.
pub fn describe(
    before: Option<&Plan>,
    before_files: &Files,
    after: &Plan,
    after_files: &Files,
) -> Vec<String> {
    let old_sums: BTreeMap<String, String> = versions(before_files).into_iter().collect();
    let versions = Versions::new(after, after_files);
    let new_sums: BTreeMap<&str, &str> = versions
        .current
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let old_entity = |name: &str| before.and_then(|p| p.entities.iter().find(|e| e.name == name));
    let mut said = Vec::new();
    for e in &after.entities {
        let Some(old) = old_entity(&e.name) else {
            said.push(format!(
                "new entity {name} -> table {schema}.{table}: `apply --create-schema` creates the table; `apply` backfills {name} for the users already migrated{parent} and migrates it with everything else for the others",
                name = e.name,
                schema = after.target_schema,
                table = e.table,
                parent = e
                    .parent
                    .as_ref()
                    .map(|p| format!(" (their {} are there already)", p.entity))
                    .unwrap_or_default(),
            ));
            continue;
        };
        if old_sums.get(&e.name).map(String::as_str) == new_sums.get(e.name.as_str()).copied() {
            continue;
        }
        let mut details = column_changes(old, e);
        details.extend(entity_changes(old, e));
        if details.is_empty() {
            details.push("its statement in 03_forward.sql changed (see the diff below)".into());
        }
        let below: Vec<String> = versions
            .with_dependents(std::slice::from_ref(&e.name))
            .into_iter()
            .filter(|d| *d != e.name)
            .collect();
        said.push(format!(
            "{name} changed: {details}. Users already migrated keep the rows the old mapping made, and `apply` refuses to run until `apply --remap {name}` re-migrates {name}{below} for them, batch by batch (a rollback restores the old rows)",
            name = e.name,
            details = details.join("; "),
            below = if below.is_empty() {
                String::new()
            } else {
                format!(" and {} below it", below.join(", "))
            },
        ));
    }
    if let Some(before) = before {
        for e in &before.entities {
            if !after.entities.iter().any(|a| a.name == e.name) {
                said.push(format!(
                    "{} is no longer in the plan: table {}.{} and its rows stay as they are, but pgshred stops writing, verifying and rolling back them",
                    e.name, before.target_schema, e.table
                ));
            }
        }
    }
    said
}

fn column_changes(old: &Entity, new: &Entity) -> Vec<String> {
    let find = |cols: &[Column], name: &str| cols.iter().find(|c| c.name == name).cloned();
    let mut out = Vec::new();
    for c in &new.columns {
        let Some(o) = find(&old.columns, &c.name) else {
            out.push(format!(
                "new column {} ({}, from `{}`), added to the existing table and empty until the re-migration",
                c.name,
                c.ty.sql(),
                c.path
            ));
            continue;
        };
        if o.ty != c.ty {
            out.push(format!(
                "column {} becomes {} (was {}; 01_schema.sql converts it in place, USING {}::{})",
                c.name,
                c.ty.sql(),
                o.ty.sql(),
                c.name,
                c.ty.sql()
            ));
        }
        if o.path != c.path {
            out.push(format!(
                "column {} is read from `{}` (was `{}`)",
                c.name, c.path, o.path
            ));
        }
        if o.default != c.default {
            let show = |d: &Option<serde_json::Value>| {
                d.as_ref().map_or("none".to_string(), |v| v.to_string())
            };
            out.push(format!(
                "column {} defaults to {} (was {})",
                c.name,
                show(&c.default),
                show(&o.default)
            ));
        }
        conversion_changes(&o, c, &mut out);
        if o.required != c.required {
            out.push(format!(
                "column {} is {} (was {})",
                c.name,
                if c.required { "required" } else { "optional" },
                if o.required { "required" } else { "optional" }
            ));
        }
    }
    for o in &old.columns {
        if find(&new.columns, &o.name).is_none() {
            out.push(format!(
                "column {} is no longer mapped (the table keeps it; `{}` goes to {} from now on)",
                o.name,
                o.path,
                new.extra.as_deref().map_or(
                    "nowhere: list it under drop or the batch fails".to_string(),
                    |x| x.to_string()
                ),
            ));
        }
    }
    out
}

/// A column's format, and its parsed companion, changed.
fn conversion_changes(o: &Column, c: &Column, out: &mut Vec<String>) {
    if o.format != c.format {
        let show =
            |f: &Option<crate::ir::Format>| f.clone().map_or("ISO 8601".to_string(), String::from);
        out.push(format!(
            "column {} reads {} (was {})",
            c.name,
            show(&c.format),
            show(&o.format)
        ));
    }
    match (&o.parsed, &c.parsed) {
        (None, Some(p)) => out.push(format!(
            "column {} gets a parsed companion {} ({}), added to the existing table and empty until the re-migration",
            c.name,
            p.name,
            p.ty.sql()
        )),
        (Some(p), None) => out.push(format!(
            "column {} no longer fills {} (the table keeps it)",
            c.name, p.name
        )),
        (Some(a), Some(b)) if a.name != b.name || a.ty != b.ty || a.format != b.format => out
            .push(format!(
                "column {}'s parsed companion is now {} ({})",
                c.name,
                b.name,
                b.ty.sql()
            )),
        _ => {}
    }
}

/// References added, changed or gone.
fn reference_changes(old: &Entity, new: &Entity) -> Vec<String> {
    let mut out = Vec::new();
    for r in &new.references {
        match old.references.iter().find(|o| o.column == r.column) {
        None => out.push(format!(
            "new reference {} to {} (from `{}`), added to the existing table and empty until the re-migration",
            r.column, r.entity, r.field
        )),
        Some(o) if o.entity != r.entity || o.field != r.field || o.on_missing != r.on_missing => {
            out.push(format!(
                "reference {} now names {} by `{}`, on_missing {} (was {} by `{}`, {})",
                r.column,
                r.entity,
                r.field,
                format!("{:?}", r.on_missing).to_lowercase(),
                o.entity,
                o.field,
                format!("{:?}", o.on_missing).to_lowercase()
            ))
        }
        _ => {}
    }
    }
    for o in &old.references {
        if !new.references.iter().any(|r| r.column == o.column) {
            out.push(format!(
                "reference {} to {} is no longer filled (the table keeps the column)",
                o.column, o.entity
            ));
        }
    }
    out
}

fn entity_changes(old: &Entity, new: &Entity) -> Vec<String> {
    let mut out = Vec::new();
    if old.legacy_id != new.legacy_id {
        out.push(format!(
            "its legacy id is read from `{}` (was `{}`): the rows get new ids",
            new.legacy_id, old.legacy_id
        ));
    }
    if old.path != new.path {
        out.push(format!(
            "its elements come from `{}` (was `{}`)",
            new.path, old.path
        ));
    }
    match (&old.parent, &new.parent) {
        (Some(o), Some(n)) if o.on_missing != n.on_missing => out.push(format!(
            "a missing parent {} now means {} (was {})",
            n.entity,
            format!("{:?}", n.on_missing).to_lowercase(),
            format!("{:?}", o.on_missing).to_lowercase()
        )),
        (Some(o), Some(n)) if o.entity != n.entity || o.field != n.field => out.push(format!(
            "its parent link is now {} (was {})",
            n.entity, o.entity
        )),
        (None, Some(n)) => out.push(format!("it now links to a parent {}", n.entity)),
        (Some(o), None) => out.push(format!("it no longer links to {}", o.entity)),
        _ => {}
    }
    out.extend(reference_changes(old, new));
    let kinds = |e: &Entity| e.route.as_ref().map(|r| (r.values.clone(), r.rest));
    if kinds(old) != kinds(new) {
        out.push(match &new.route {
            Some(r) => format!(
                "it takes the kinds {} of its array{}: rows of other kinds go, rows of new kinds come with the re-migration",
                r.values.join(", "),
                if r.rest == crate::ir::Rest::Take { " and every kind no other entity takes" } else { "" }
            ),
            None => "it takes every element of its array again, of any kind".into(),
        });
    }
    match (&old.recursive, &new.recursive) {
        (None, Some(t)) => out.push(format!(
            "its elements' children under `{}` become rows too (a tree, parent in {}): the re-migration adds them",
            t.key, t.column
        )),
        (Some(t), None) => out.push(format!(
            "the children under `{}` are no longer rows of it: they go to extra",
            t.key
        )),
        (Some(a), Some(b)) if a.key != b.key || a.max_depth != b.max_depth => out.push(format!(
            "its tree reads children from `{}`, at most {} deep (was `{}`, {})",
            b.key, b.max_depth, a.key, a.max_depth
        )),
        _ => {}
    }
    if old.unique_within != new.unique_within {
        out.push(format!(
            "its legacy ids are unique per {} (was per {}): the rows get new ids and the table a new unique key",
            format!("{:?}", new.unique_within).to_lowercase(),
            format!("{:?}", old.unique_within).to_lowercase()
        ));
    }
    if old.on_duplicate_id != new.on_duplicate_id || old.on_missing_id != new.on_missing_id {
        out.push("its policy for duplicate or missing legacy ids changed".into());
    }
    if old.drop != new.drop || old.extra != new.extra {
        out.push("what it drops or keeps in its extra column changed".into());
    }
    out
}
