//! The drafted plan and mappings as YAML files, each decision with a comment saying what was seen.

use std::collections::BTreeMap;

use crate::jsonpath::{FieldPath, shown_key};

use super::draft::{Column, Entity, Id, Link, Shape};
use super::names::singular;

/// Where the documents come from, as the plan's `source:` says.
#[derive(Debug, Clone)]
pub struct Source {
    pub schema: String,
    pub table: String,
    pub key_column: String,
    pub document_column: String,
    pub order_column: String,
}

/// What the drafted files say about the reading.
pub struct Seen<'a> {
    /// The file or table read, as the header names it.
    pub from: &'a str,
    pub documents: u64,
    /// Documents that are not JSON objects (null, a string...).
    pub not_objects: u64,
}

/// The plan file and one mapping per entity: file name (relative to the output directory) ->
/// text.
pub fn files(
    name: &str,
    source: &Source,
    seen: &Seen,
    ents: &[Entity],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut plan = String::new();
    plan.push_str(&format!(
        "# Drafted by `pgshred init` from {} documents of {}: review every comment, then\n\
         # `pgshred validate` and `pgshred preview` this plan. Re-running init proposes changes as a\n\
         # patch and never overwrites these files.\n",
        seen.documents, seen.from
    ));
    plan.push_str(&format!("plan: {name}\n"));
    plan.push_str(&format!(
        "description: {}\n\n",
        yaml(&format!("{} drafted from {}", source.table, seen.from))
    ));
    plan.push_str("source:\n");
    plan.push_str(&format!("  schema: {}\n", yaml(&source.schema)));
    plan.push_str(&format!("  table: {}\n", yaml(&source.table)));
    plan.push_str(&format!("  key_column: {}\n", yaml(&source.key_column)));
    plan.push_str(&format!(
        "  document_column: {}\n",
        yaml(&source.document_column)
    ));
    plan.push_str(&format!("  order_column: {}\n", yaml(&source.order_column)));
    if seen.not_objects > 0 {
        plan.push_str(&format!(
            "  # {} of {} documents are not JSON objects (null, a string, an array): such users\n\
             # are migrated with no rows (error stops their batch instead).\n\
             \x20 not_a_document: skip\n",
            seen.not_objects, seen.documents
        ));
    }
    plan.push_str(&format!("\ntarget:\n  schema: {name}\n\n"));
    let namespace = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("pgshred:{name}").as_bytes(),
    );
    plan.push_str(&format!(
        "ids:\n  # Every new id is uuid_v5(namespace, ...): never change it once a batch has run.\n  namespace: {namespace}\n\n"
    ));
    plan.push_str(
        "security:\n  # The signed-in user's id, as the row-level security policies compare it with user_id\n  \
         # (Supabase: auth.uid()::text).\n  owner_expression: current_setting('app.user_id', true)\n\n",
    );
    plan.push_str("mappings:\n");
    for e in ents {
        plan.push_str(&format!("  - mappings/{}.yaml\n", e.name));
    }
    out.insert(format!("{name}.yaml"), plan);
    for e in ents {
        out.insert(format!("mappings/{}.yaml", e.name), mapping(e, ents));
    }
    out
}

fn mapping(e: &Entity, ents: &[Entity]) -> String {
    let mut s = String::new();
    let what = match e.shape {
        Shape::Root => "the document root: one row per user".to_string(),
        Shape::Array => format!("{} elements in {} documents", e.elements, e.docs),
        Shape::Keyed => format!(
            "{} members of objects keyed by id, in {} documents",
            e.elements, e.docs
        ),
        Shape::Single => format!("one object per enclosing element, in {} documents", e.docs),
        Shape::Scalars { keyed: true } => {
            format!("{} scalar members of objects keyed by name", e.elements)
        }
        Shape::Scalars { keyed: false } => match &e.link {
            Some(l) => format!(
                "lists of ids naming {} elements: a link table",
                ents[l.entity].name
            ),
            None => format!("{} scalars in lists", e.elements),
        },
    };
    s.push_str(&format!("# {}: {what}.\n", e.name));
    for n in &e.notes {
        comment(&mut s, "", n);
    }
    s.push_str(&format!("entity: {}\ntable: {}\n", e.name, e.name));
    s.push_str("source:\n");
    s.push_str(&format!("  path: {}\n", yaml(&path(e))));
    if let Some(r) = &e.route {
        let field = yaml(&shown_key(&r.field));
        if r.others {
            s.push_str(&format!("  where: {{ field: {field}, others: take }}\n"));
        } else {
            let kinds: Vec<String> = r.kinds.iter().map(|k| yaml(k)).collect();
            s.push_str(&format!(
                "  where: {{ field: {field}, in: [{}] }}\n",
                kinds.join(", ")
            ));
        }
    }
    match e.shape {
        Shape::Keyed | Shape::Scalars { keyed: true } => s.push_str("  keyed: true\n"),
        Shape::Single => s.push_str("  single: true\n"),
        _ => {}
    }
    match &e.id {
        Id::Field {
            field,
            number,
            per_parent,
            repeated,
            evidence,
        } => {
            comment(&mut s, "  ", evidence);
            s.push_str(&format!("  legacy_id: {}\n", yaml(&shown_key(field))));
            if *number {
                s.push_str("  id_type: number\n");
            }
            if *per_parent {
                s.push_str("  unique_within: parent\n");
            }
            if *repeated > 0 {
                s.push_str("  on_duplicate_id: error\n");
            }
        }
        Id::Position {
            per_parent,
            why,
            field,
        } => {
            comment(
                &mut s,
                "  ",
                &format!(
                    "{why}: no element has `{field}`, so each one's place in its array is its legacy id"
                ),
            );
            s.push_str(&format!(
                "  legacy_id: {}\n  on_missing_id: position\n",
                yaml(&shown_key(field))
            ));
            if *per_parent {
                s.push_str("  unique_within: parent\n");
            }
        }
        Id::Key { per_parent: true } => {
            comment(
                &mut s,
                "  ",
                "the same key in the objects of several parents of one document",
            );
            s.push_str("  unique_within: parent\n");
        }
        Id::Key { .. } | Id::Implied => {}
    }
    if let Some((key, column)) = &e.recursive {
        comment(
            &mut s,
            "  ",
            &format!("a tree: elements hold elements like themselves in `{key}`"),
        );
        s.push_str(&format!(
            "  recursive:\n    key: {}\n    column: {column}\n",
            yaml(&shown_key(key))
        ));
    }
    if let Some(p) = e.enclosing {
        let parent = &ents[p];
        s.push_str(&format!(
            "parent:\n  entity: {}\n  column: {}_id\n",
            parent.name,
            singular(&parent.name)
        ));
    } else if let Some(p) = &e.parent {
        comment(&mut s, "", &p.evidence);
        s.push_str(&format!(
            "parent:\n  entity: {}\n  field: {}\n  column: {}\n  on_missing: {}\n",
            ents[p.entity].name,
            yaml(p.field.as_deref().unwrap_or_default()),
            p.column,
            p.on_missing
        ));
    }
    if !e.references.is_empty() {
        s.push_str("references:\n");
        for r in &e.references {
            comment(&mut s, "  ", &r.evidence);
            s.push_str(&format!("  - {}\n", link(r, ents, true)));
        }
    }
    if !e.columns.is_empty() {
        s.push_str("columns:\n");
        for c in &e.columns {
            comment(
                &mut s,
                "  ",
                &format!("{}: {}", FieldPath(c.path.clone()), c.note),
            );
            s.push_str(&format!("  - {}\n", column(c)));
        }
    }
    if let Some(v) = &e.value {
        if !v.note.is_empty() {
            comment(&mut s, "", &v.note);
        }
        s.push_str(&format!("value: {}\n", column(v)));
    }
    if let Some(l) = &e.link {
        comment(&mut s, "", &l.evidence);
        s.push_str(&format!("link: {}\n", link(l, ents, false)));
    }
    if !e.rare.is_empty() {
        let listed: Vec<String> = e
            .rare
            .iter()
            .map(|(k, n)| format!("{k} ({n} of {})", e.elements))
            .collect();
        comment(
            &mut s,
            "",
            &format!("Seen in few elements, kept in extra: {}", listed.join(", ")),
        );
    }
    let candidates = drop_candidates(e);
    if !candidates.is_empty() {
        comment(
            &mut s,
            "",
            &format!(
                "Drop candidates (names that look like local state or derived values): {}; to \
                 leave them out, remove their columns and list them: drop: [{}]",
                candidates.join(", "),
                candidates.join(", ")
            ),
        );
    }
    if !matches!(e.shape, Shape::Scalars { .. }) {
        s.push_str("extra: extra                  # every key not mapped above, kept as jsonb\n");
    }
    s
}

/// Top-level keys of the elements named like caches, renders or temporary state.
fn drop_candidates(e: &Entity) -> Vec<String> {
    let looks = |k: &str| {
        let l = k.to_ascii_lowercase();
        k.starts_with('_')
            || ["cache", "rendered", "tmp", "temp", "derived", "computed"]
                .iter()
                .any(|w| l.contains(w))
    };
    let mut out: Vec<String> = e
        .keys
        .iter()
        .filter(|k| looks(k))
        .map(|k| shown_key(k).into_owned())
        .collect();
    out.dedup();
    out
}

pub(super) fn column(c: &Column) -> String {
    let mut parts = vec![format!("name: {}", c.name)];
    if !c.path.is_empty() {
        parts.push(format!(
            "path: {}",
            yaml(&FieldPath(c.path.clone()).to_string())
        ));
    }
    parts.push(format!("type: {}", yaml(c.ty.sql())));
    if let Some(f) = c.format {
        parts.push(format!("format: {f}"));
    }
    if c.keep_original {
        parts.push("keep_original: true".to_string());
    }
    if let Some(p) = &c.parsed {
        let formats: Vec<String> = p.formats.iter().map(|f| yaml(f)).collect();
        let mut inner = vec![
            format!("name: {}", p.name),
            "type: date".to_string(),
            format!("format: [{}]", formats.join(", ")),
        ];
        if let Some(precision) = &p.precision {
            inner.push(format!("precision: {precision}"));
        }
        parts.push(format!("parsed: {{ {} }}", inner.join(", ")));
    }
    format!("{{ {} }}", parts.join(", "))
}

fn link(l: &Link, ents: &[Entity], field: bool) -> String {
    let mut parts = vec![format!("entity: {}", ents[l.entity].name)];
    if field && let Some(f) = &l.field {
        parts.push(format!("field: {}", yaml(f)));
    }
    parts.push(format!("column: {}", l.column));
    parts.push(format!("on_missing: {}", l.on_missing));
    format!("{{ {} }}", parts.join(", "))
}

/// The entity's path as mappings write it: levels joined by `[*].`, `$` for the root.
pub fn path(e: &Entity) -> String {
    if e.shape == Shape::Root {
        return "$".to_string();
    }
    e.levels
        .iter()
        .map(|l| FieldPath(l.clone()).to_string())
        .collect::<Vec<_>>()
        .join("[*].")
}

/// A comment, wrapped at 100 columns.
fn comment(s: &mut String, indent: &str, text: &str) {
    let mut line = format!("{indent}#");
    for word in text.split_whitespace() {
        if line.len() + word.len() + 1 > 100 && line.len() > indent.len() + 1 {
            s.push_str(&line);
            s.push('\n');
            line = format!("{indent}#");
        }
        line.push(' ');
        line.push_str(word);
    }
    s.push_str(&line);
    s.push('\n');
}

/// A YAML scalar: plain when it reads back as the same string, else single-quoted.
fn yaml(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-/*$".contains(c))
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
        );
    if plain && !s.contains("[*]") {
        s.to_string()
    } else if s.chars().all(|c| !c.is_control()) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        serde_json::to_string(s).expect("a string")
    }
}

#[cfg(test)]
mod tests {
    use super::yaml;

    #[test]
    fn yaml_scalars_read_back_as_written() {
        for s in [
            "plain",
            "a.b",
            "\"dark mode\"",
            "null",
            "it's",
            "text[]",
            "x[*].y",
            "tab\there",
            "$",
        ] {
            let back: String = serde_yaml::from_str(&yaml(s)).unwrap();
            assert_eq!(back, s);
        }
    }
}
