//! The third reading: which fields name other entities' elements. Per document, the legacy ids
//! of every entity are collected, then every field named like a reference (`orgId`, `parent`,
//! `idMembers`) is looked up among them; a field whose values mostly resolve becomes a parent, a
//! reference, or (a list of ids) a link table. Only one document is held at a time.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::cast;
use crate::ir::SqlType;

use super::draft::{Column, Entity, Id, Link, Shape};
use super::names::{singular, snake};

/// Per (entity, column index): values seen, and per target entity the values found.
#[derive(Debug, Default)]
pub struct Evidence {
    pub fields: BTreeMap<(usize, usize), (u64, BTreeMap<usize, u64>)>,
}

impl Evidence {
    /// Reads one document.
    pub fn observe(&mut self, ents: &[Entity], doc: &Value) {
        let elements: Vec<Vec<(Option<&str>, &Value)>> =
            (0..ents.len()).map(|e| elements(doc, ents, e)).collect();
        let mut ids: HashMap<usize, HashSet<String>> = HashMap::new();
        for (t, ent) in ents.iter().enumerate() {
            if !referenceable(ent) {
                continue;
            }
            let set = ids.entry(t).or_default();
            for (key, el) in &elements[t] {
                match (&ent.id, key) {
                    (Id::Field { field, .. }, _) => {
                        if let Some(v) = el.get(field).and_then(cast::scalar_text) {
                            set.insert(v);
                        }
                    }
                    (_, Some(k)) => {
                        set.insert(k.to_string());
                    }
                    _ => {}
                }
            }
        }
        for (e, ent) in ents.iter().enumerate() {
            for (c, col) in ent.columns.iter().enumerate() {
                if !candidate(col) {
                    continue;
                }
                for (_, el) in &elements[e] {
                    let Some(v) = at(el, &col.path) else { continue };
                    let texts: Vec<String> = match v {
                        Value::Array(items) => items.iter().filter_map(cast::scalar_text).collect(),
                        other => cast::scalar_text(other).into_iter().collect(),
                    };
                    let entry = self.fields.entry((e, c)).or_default();
                    for t in &texts {
                        entry.0 += 1;
                        for (target, set) in &ids {
                            let named = named_like_reference(col)
                                || names_entity(&col.name, &ents[*target].name);
                            if named && set.contains(t) {
                                *entry.1.entry(*target).or_default() += 1;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Turns the fields that resolve into parents, references and link tables.
    pub fn apply(&self, ents: &mut Vec<Entity>) {
        let mut graph = Graph::new(ents);
        // Best match first, so a parent gets its strongest field.
        let mut found: Vec<(usize, usize, usize, u64, u64)> = Vec::new();
        for ((e, c), (values, targets)) in &self.fields {
            for (t, n) in targets {
                if *n * 2 >= *values && *values > 0 {
                    found.push((*e, *c, *t, *n, *values));
                }
            }
        }
        found.sort_by_key(|(e, c, t, n, v)| {
            let named = names_entity(&ents[*e].columns[*c].name, &ents[*t].name);
            (*e, *c, !named, u64::MAX - *n * 1000 / *v, *t)
        });
        let mut used: HashSet<(usize, usize)> = HashSet::new();
        let mut links: Vec<(usize, usize, Link)> = Vec::new();
        let mut lists: Vec<(usize, usize, Link)> = Vec::new();
        for (e, c, t, n, values) in found {
            if used.contains(&(e, c)) {
                continue;
            }
            let col = &ents[e].columns[c];
            let share = format!(
                "{n} of {values} values of `{}` name {} elements",
                crate::jsonpath::FieldPath(col.path.clone()),
                ents[t].name
            );
            let on_missing = if n == values { "error" } else { "\"null\"" };
            let orphans = if n == values {
                String::from(": every one resolves")
            } else {
                format!(": {} orphans, kept in extra", values - n)
            };
            let list = col.ty == SqlType::TextArray;
            if t == e && list {
                continue;
            }
            if t != e && !graph.allows(e, t) {
                continue;
            }
            used.insert((e, c));
            let link = Link {
                entity: t,
                field: Some(
                    col.path
                        .iter()
                        .map(|k| crate::jsonpath::shown_key(k).into_owned())
                        .collect::<Vec<_>>()
                        .join("."),
                ),
                column: String::new(),
                on_missing,
                evidence: format!("{share}{orphans}"),
                values,
            };
            if t != e {
                graph.add(e, t);
            }
            if list {
                lists.push((e, c, link));
            } else {
                links.push((e, c, link));
            }
        }
        // Columns become links, last first so indexes stay valid.
        let mut removed: Vec<(usize, usize)> = Vec::new();
        for (e, c, mut link) in links {
            let ent = &ents[e];
            let is_parent = ent.parent.is_none()
                && ent.enclosing.is_none()
                && link.entity != e
                && matches!(ent.shape, Shape::Array | Shape::Keyed);
            let target = &ents[link.entity].name;
            link.column = link_column(ent, &ent.columns[c].name, target);
            if is_parent {
                // An element without the field has no parent: under `error` its batch would fail.
                let without = ent.elements.saturating_sub(link.values);
                if without > 0 {
                    link.on_missing = "\"null\"";
                    link.evidence
                        .push_str(&format!("; {without} elements have none"));
                }
                ents[e].parent = Some(link);
            } else {
                ents[e].references.push(link);
            }
            removed.push((e, c));
        }
        let mut new_entities = Vec::new();
        for (e, c, mut link) in lists {
            let ent = &ents[e];
            let col = ent.columns[c].clone();
            let target = ents[link.entity].name.clone();
            let name = unique(
                ents,
                &new_entities,
                &format!("{}_{}", singular(&ent.name), snake(&target)),
            );
            let mut levels = ent.levels.clone();
            if ent.shape == Shape::Root {
                levels = vec![col.path.clone()];
            } else {
                levels.push(col.path.clone());
            }
            link.column = format!("{}_id", singular(&target));
            link.field = None;
            let value = Column {
                name: format!("{}_key", singular(&snake(col.path.last().unwrap()))),
                path: Vec::new(),
                ty: SqlType::Text,
                format: None,
                keep_original: false,
                note: String::new(),
                parsed: None,
            };
            new_entities.push(Entity {
                name,
                levels,
                shape: Shape::Scalars { keyed: false },
                id: Id::Implied,
                enclosing: (ent.shape != Shape::Root).then_some(e),
                parent: None,
                references: Vec::new(),
                columns: Vec::new(),
                value: Some(value),
                link: Some(link),
                recursive: None,
                elements: 0,
                docs: 0,
                rare: Vec::new(),
                notes: Vec::new(),
                keys: Default::default(),
                route: None,
            });
            removed.push((e, c));
        }
        removed.sort();
        for (e, c) in removed.into_iter().rev() {
            ents[e].columns.remove(c);
        }
        ents.extend(new_entities);
    }
}

/// The elements of entity `e` in `doc`, with their keys where keyed.
pub fn elements<'a>(
    doc: &'a Value,
    ents: &[Entity],
    e: usize,
) -> Vec<(Option<&'a str>, &'a Value)> {
    groups(doc, ents, e).into_iter().flatten().collect()
}

/// The elements of entity `e` in `doc`, one group per element of the enclosing entity (the
/// parent), with their keys where keyed.
pub fn groups<'a>(
    doc: &'a Value,
    ents: &[Entity],
    e: usize,
) -> Vec<Vec<(Option<&'a str>, &'a Value)>> {
    let ent = &ents[e];
    if ent.shape == Shape::Root {
        return vec![vec![(None, doc)]];
    }
    let holders: Vec<&'a Value> = match ent.enclosing {
        None => vec![doc],
        Some(p) => elements(doc, ents, p).into_iter().map(|(_, v)| v).collect(),
    };
    let keys = ent.levels.last().expect("a level");
    let mut out = Vec::new();
    for h in holders {
        let mut group = Vec::new();
        if let Some(v) = at(h, keys) {
            expand(v, ent, &mut group);
        }
        out.push(group);
    }
    out
}

fn expand<'a>(v: &'a Value, ent: &Entity, out: &mut Vec<(Option<&'a str>, &'a Value)>) {
    match (ent.shape, v) {
        (Shape::Single, Value::Object(_)) => out.push((None, v)),
        (Shape::Keyed | Shape::Scalars { keyed: true }, Value::Object(m)) => {
            out.extend(m.iter().map(|(k, v)| (Some(k.as_str()), v)));
        }
        (Shape::Array | Shape::Scalars { keyed: false }, Value::Array(items)) => {
            for item in items {
                if let Some(r) = &ent.route
                    && !r.takes(item.get(&r.field).and_then(Value::as_str))
                {
                    continue;
                }
                out.push((None, item));
                if let Some((key, _)) = &ent.recursive
                    && let Some(children) = item.get(key)
                {
                    expand(children, ent, out);
                }
            }
        }
        _ => {}
    }
}

/// The value at `keys` within `v`.
pub fn at<'a>(v: &'a Value, keys: &[String]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| v.get(k))
}

/// Entities whose legacy ids each name one element.
fn referenceable(ent: &Entity) -> bool {
    match (&ent.id, ent.shape) {
        (Id::Field { per_parent, .. }, _) => !per_parent,
        (Id::Key { per_parent }, Shape::Keyed) => !per_parent,
        _ => false,
    }
}

/// Columns whose values may name elements: text, whole numbers, uuids and lists of text.
fn candidate(col: &Column) -> bool {
    matches!(
        col.ty,
        SqlType::Text | SqlType::Integer | SqlType::Bigint | SqlType::Uuid | SqlType::TextArray
    ) && col.format.is_none()
}

/// Fields named like a reference (`orgId`, `idBoard`, `parent`, `memberIds`, `cardKey`); others
/// count where named after the entity they name (`items`, `card`).
fn named_like_reference(col: &Column) -> bool {
    let k = col
        .path
        .last()
        .map(|k| k.to_ascii_lowercase())
        .unwrap_or_default();
    k.starts_with("id")
        || ["id", "ids", "key", "keys", "uid", "uids", "ref", "refs"]
            .iter()
            .any(|s| k.ends_with(s))
        || k.contains("parent")
}

fn names_entity(column: &str, target: &str) -> bool {
    column.contains(&singular(target))
}

/// The foreign-key column of a link from `field`: `org_id` for `orgId`, else `<target>_id`.
fn link_column(ent: &Entity, field: &str, target: &str) -> String {
    let base = if field.ends_with("_id") {
        field.to_string()
    } else {
        format!("{}_id", singular(target))
    };
    let mut name = base.clone();
    let mut n = 2;
    let taken = |n: &str| {
        ent.columns.iter().any(|c| c.name == n)
            || ent.references.iter().any(|r| r.column == n)
            || ent.parent.as_ref().is_some_and(|p| p.column == n)
            || ent.recursive.as_ref().is_some_and(|r| r.1 == n)
    };
    while taken(&name) && name != field {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

fn unique(ents: &[Entity], new: &[Entity], base: &str) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while ents.iter().chain(new).any(|e| e.name == name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// Which entity is written before which (enclosing, parents, references), to refuse a link
/// that would close a cycle.
struct Graph {
    after: Vec<Vec<usize>>,
}

impl Graph {
    fn new(ents: &[Entity]) -> Graph {
        let mut after = vec![Vec::new(); ents.len()];
        for (e, ent) in ents.iter().enumerate() {
            if let Some(p) = ent.enclosing {
                after[e].push(p);
            }
        }
        Graph { after }
    }

    /// Whether `e` may depend on `t`: `t` does not depend on `e` already.
    fn allows(&self, e: usize, t: usize) -> bool {
        let mut stack = vec![t];
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            if n == e {
                return false;
            }
            if seen.insert(n) {
                stack.extend(&self.after[n]);
            }
        }
        true
    }

    fn add(&mut self, e: usize, t: usize) {
        self.after[e].push(t);
    }
}
