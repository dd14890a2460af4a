//! `init` run again over a plan that is there: what the documents show that the plan does not
//! say, as changes to the plan's own files, whatever was edited in them since: a key no mapping
//! reads becomes a column, an entity no mapping reads becomes a mapping file listed in the plan,
//! and a column whose type no longer holds every value takes the type that does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::ir::SqlType;
use crate::jsonpath::{FieldPath, parse_array, parse_field};
use crate::spec::{MappingSpec, load::SourceFile};

use super::draft::{Column, Entity};
use super::render;

/// Each file to change: its text now, and as proposed.
pub(super) type Changes = BTreeMap<PathBuf, (String, String)>;

/// What `drafted` (rendered as `files`) adds to the plan at `plan`.
pub(super) fn changes(
    plan: &Path,
    drafted: &[Entity],
    files: &BTreeMap<String, String>,
) -> Result<Changes, Error> {
    let spec = crate::spec::load::load(plan).map_err(Error::Spec)?;
    let mut out = Changes::new();
    let mut plan_text = spec.plan.text.clone();
    for e in drafted {
        let path = render::path(e);
        let Some(m) = spec.mappings.iter().find(|m| same_place(m, &path, e)) else {
            add_entity(
                plan,
                &spec.plan.spec.mappings,
                &mut plan_text,
                e,
                files,
                &mut out,
            );
            continue;
        };
        let mut text = m.text.clone();
        for c in &e.columns {
            if !reads(&m.spec, &c.path) {
                text = with_column(&text, c);
            } else if let Some(now) = m.spec.columns.iter().find(|x| same_path(&x.path, &c.path)) {
                text = with_type(&text, &now.name, &now.ty, c.ty);
            }
        }
        if text != m.text {
            out.insert(m.path.clone(), (m.text.clone(), text));
        }
    }
    if plan_text != spec.plan.text {
        out.insert(spec.plan.path.clone(), (spec.plan.text.clone(), plan_text));
    }
    Ok(out)
}

/// Whether mapping `m` reads the elements drafted as `e` (at `path`): the same array, and the
/// same kinds of it.
fn same_place(m: &SourceFile<MappingSpec>, path: &str, e: &Entity) -> bool {
    let shown = |p: &str| {
        parse_array(p).ok().map(|a| {
            if a.is_root() {
                "$".to_string()
            } else {
                a.0.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("[*].")
            }
        })
    };
    if shown(&m.spec.source.path) != Some(path.to_string()) {
        return false;
    }
    match (&m.spec.source.route, &e.route) {
        (None, None) => true,
        (Some(w), Some(r)) if r.others => w.others.is_some(),
        (Some(w), Some(r)) => {
            let kinds: Vec<String> = w
                .values
                .iter()
                .filter_map(crate::cast::scalar_text)
                .collect();
            r.kinds.iter().all(|k| kinds.contains(k))
        }
        _ => false,
    }
}

/// Whether mapping `m` reads the key at `path` of its elements: a column, `drop`, the legacy id,
/// the parent's field or a reference reads it, or a part of it, or it a part of them.
fn reads(m: &MappingSpec, path: &[String]) -> bool {
    let mut read: Vec<&str> = m.columns.iter().map(|c| c.path.as_str()).collect();
    read.extend(m.drop.iter().map(String::as_str));
    read.extend(m.source.legacy_id.as_deref());
    read.extend(m.parent.as_ref().and_then(|p| p.field.as_deref()));
    read.extend(m.references.iter().map(|r| r.field.as_str()));
    read.iter().filter_map(|r| parse_field(r).ok()).any(|r| {
        let n = r.0.len().min(path.len());
        r.0[..n] == path[..n]
    })
}

fn same_path(written: &str, path: &[String]) -> bool {
    parse_field(written).is_ok_and(|p| p.0 == path)
}

/// The mapping's text with column `c` added at the end of its `columns:` list (or a new list
/// before `extra:`, or at the end).
fn with_column(text: &str, c: &Column) -> String {
    let entry = |indent: &str| {
        format!(
            "{indent}# added by init: {}: {}\n{indent}- {}\n",
            FieldPath(c.path.clone()),
            c.note.trim(),
            render::column(c)
        )
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if let Some(s) = lines.iter().position(|l| l.trim_end() == "columns:") {
        // The list ends at the next line that starts a key of its own; its items' indentation
        // (YAML allows none) is the new item's.
        let end = lines[s + 1..]
            .iter()
            .position(|l| !l.starts_with([' ', '-', '#']) && !l.trim().is_empty())
            .map_or(lines.len(), |i| s + 1 + i);
        let indent = lines[s + 1..end]
            .iter()
            .find(|l| l.trim_start().starts_with("- "))
            .map_or("  ", |l| &l[..l.len() - l.trim_start().len()]);
        return [lines[..end].concat(), entry(indent), lines[end..].concat()].concat();
    }
    let at = lines
        .iter()
        .position(|l| {
            l.starts_with("extra:") || l.starts_with("drop:") || l.starts_with("indexes:")
        })
        .unwrap_or(lines.len());
    let mut before = lines[..at].concat();
    if !before.is_empty() && !before.ends_with('\n') {
        before.push('\n');
    }
    [
        before,
        format!("columns:\n{}", entry("  ")),
        lines[at..].concat(),
    ]
    .concat()
}

/// The mapping's text with column `name` typed `drafted` where its type `now` no longer holds
/// every value seen.
fn with_type(text: &str, name: &str, now: &str, drafted: SqlType) -> String {
    let Some(now_ty) = SqlType::ALL.into_iter().find(|t| t.sql() == now) else {
        return text.to_string();
    };
    if holds(now_ty, drafted) {
        return text.to_string();
    }
    let named = format!("name: {name},");
    text.split_inclusive('\n')
        .map(|l| {
            if l.contains(&named) {
                let quoted = format!("type: \"{now}\"");
                let plain = format!("type: {now}");
                let to = format!("type: \"{}\"", drafted.sql());
                if l.contains(&quoted) {
                    l.replace(&quoted, &to)
                } else {
                    l.replace(&plain, &to)
                }
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// Whether a column typed `now` holds every value that `drafted`, the narrowest type holding
/// them all, holds.
fn holds(now: SqlType, drafted: SqlType) -> bool {
    use SqlType::*;
    now == drafted
        || now == Jsonb
        || matches!(
            (now, drafted),
            (Bigint, Integer)
                | (Numeric, Integer | Bigint)
                | (
                    Text,
                    Uuid | Date | Timestamptz | Integer | Bigint | Numeric | Boolean
                )
        )
}

/// A new mapping file for `e`, beside the plan's first mapping, and its line in the plan.
fn add_entity(
    plan: &Path,
    listed: &[String],
    plan_text: &mut String,
    e: &Entity,
    files: &BTreeMap<String, String>,
    out: &mut Changes,
) {
    let Some(text) = files.get(&format!("mappings/{}.yaml", e.name)) else {
        return;
    };
    let dir = listed
        .first()
        .and_then(|f| f.rsplit_once('/').map(|(d, _)| format!("{d}/")))
        .unwrap_or_default();
    let entry = format!("{dir}{}.yaml", e.name);
    let file = plan.parent().unwrap_or(Path::new(".")).join(&entry);
    if file.exists() {
        return;
    }
    out.insert(file, (String::new(), text.clone()));
    let lines: Vec<&str> = plan_text.split_inclusive('\n').collect();
    let last = lines.iter().rposition(|l| l.trim_start().starts_with("- "));
    let at = last.map_or(lines.len(), |i| i + 1);
    let mut line = format!("  - {entry}\n");
    if at > 0 && !lines[at - 1].ends_with('\n') {
        line.insert(0, '\n');
    }
    *plan_text = [lines[..at].concat(), line, lines[at..].concat()].concat();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column() -> Column {
        Column {
            name: "seen_at".into(),
            path: vec!["seenAt".into()],
            ty: SqlType::Timestamptz,
            format: None,
            keep_original: false,
            note: "(seen 3)".into(),
            parsed: None,
        }
    }

    #[test]
    fn a_new_column_joins_the_list_as_its_items_are_indented() {
        let indented = "entity: a\ncolumns:\n  - { name: x, path: x, type: text }\nextra: extra\n";
        let flush = "entity: a\ncolumns:\n- { name: x, path: x, type: text }\nextra: extra\n";
        let none = "entity: a\nsource: { path: a, legacy_id: id }\nextra: extra\n";
        for text in [indented, flush, none] {
            let changed = with_column(text, &column());
            let v: serde_yaml::Value = serde_yaml::from_str(&changed).unwrap();
            let names: Vec<&str> = v["columns"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect();
            assert_eq!(names.last(), Some(&"seen_at"), "{changed}");
            assert_eq!(v["extra"].as_str(), Some("extra"), "{changed}");
        }
    }

    #[test]
    fn a_type_changes_only_where_it_no_longer_holds() {
        let text = "columns:\n  - { name: n, path: n, type: integer }\n";
        assert!(with_type(text, "n", "integer", SqlType::Numeric).contains("type: \"numeric\""));
        assert_eq!(with_type(text, "n", "integer", SqlType::Integer), text);
        let wide = "columns:\n  - { name: n, path: n, type: numeric }\n";
        assert_eq!(with_type(wide, "n", "numeric", SqlType::Integer), wide);
    }
}
