//! The second reading: each entity's legacy id. For every field of an array entity's elements,
//! whether every element has it (a non-empty string or a whole number), and whether a value
//! repeats within a document or within one parent's elements; for objects keyed by id, whether a
//! key repeats across parents. One document is held at a time.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::draft::{Entity, Id, Shape};
use super::links::groups;

/// How a field of an entity's elements behaves as a legacy id.
#[derive(Debug, Default, Clone)]
pub struct FieldEvidence {
    /// Elements with a non-empty string here, and with a whole number.
    pub strings: u64,
    pub integers: u64,
    /// Documents holding elements, and those where a value repeats within the document.
    pub docs: u64,
    pub repeated_in_docs: u64,
    /// Parents (one array each) within which a value repeats.
    pub repeated_in_parent: u64,
    /// The first repetition: the user and the value.
    pub example: Option<(String, String)>,
}

/// Field names read as ids, best first.
const ID_NAMES: [&str; 7] = ["id", "uid", "_id", "uuid", "guid", "key", "slug"];

#[derive(Debug, Default)]
pub struct Evidence {
    fields: BTreeMap<(usize, String), FieldEvidence>,
    /// Per entity: elements that are objects.
    objects: BTreeMap<usize, u64>,
    /// Per keyed entity: documents where a key repeats across parents.
    keys_repeated: BTreeMap<usize, u64>,
}

impl Evidence {
    pub fn observe(&mut self, ents: &[Entity], user: &str, doc: &Value) {
        for (e, ent) in ents.iter().enumerate() {
            match ent.shape {
                Shape::Array => self.array(e, ents, user, doc),
                Shape::Keyed | Shape::Scalars { keyed: true } if ent.enclosing.is_some() => {
                    let mut seen = HashSet::new();
                    let repeated = groups(doc, ents, e)
                        .iter()
                        .flatten()
                        .any(|(k, _)| !seen.insert(k.unwrap_or_default()));
                    if repeated {
                        *self.keys_repeated.entry(e).or_default() += 1;
                    }
                }
                _ => {}
            }
        }
    }

    fn array(&mut self, e: usize, ents: &[Entity], user: &str, doc: &Value) {
        let mut in_doc: HashMap<&str, HashSet<String>> = HashMap::new();
        let mut repeated_in_doc: BTreeMap<&str, String> = BTreeMap::new();
        let groups = groups(doc, ents, e);
        for group in &groups {
            let mut in_group: HashMap<&str, HashSet<String>> = HashMap::new();
            let mut repeated_here: HashSet<&str> = HashSet::new();
            for (_, el) in group {
                let Value::Object(map) = el else { continue };
                *self.objects.entry(e).or_default() += 1;
                for (k, v) in map {
                    let text = match v {
                        Value::String(s) if !s.is_empty() => s.clone(),
                        Value::Number(n) if n.as_i64().is_some() => n.to_string(),
                        _ => continue,
                    };
                    let f = self.fields.entry((e, k.clone())).or_default();
                    match v {
                        Value::String(_) => f.strings += 1,
                        _ => f.integers += 1,
                    }
                    if !in_group.entry(k).or_default().insert(text.clone()) {
                        repeated_here.insert(k);
                    }
                    if !in_doc.entry(k).or_default().insert(text.clone()) {
                        repeated_in_doc.entry(k).or_insert(text);
                    }
                }
            }
            for k in repeated_here {
                if let Some(f) = self.fields.get_mut(&(e, k.to_string())) {
                    f.repeated_in_parent += 1;
                }
            }
        }
        for k in in_doc.keys() {
            let f = self.fields.entry((e, k.to_string())).or_default();
            f.docs += 1;
            if let Some(v) = repeated_in_doc.get(k) {
                f.repeated_in_docs += 1;
                f.example
                    .get_or_insert_with(|| (user.to_string(), v.clone()));
            }
        }
    }

    /// Sets every entity's legacy id from the evidence; a field chosen as the id is no longer a
    /// column.
    pub fn apply(&self, ents: &mut [Entity]) {
        for (e, ent) in ents.iter_mut().enumerate() {
            let nested = ent.enclosing.is_some();
            match ent.shape {
                Shape::Array => {
                    ent.id = self.legacy_id(e, ent, nested);
                    // A tree's nodes need ids unique per user; their places in the tree are.
                    let per_parent = matches!(
                        ent.id,
                        Id::Field {
                            per_parent: true,
                            ..
                        } | Id::Position {
                            per_parent: true,
                            ..
                        }
                    );
                    if ent.recursive.is_some() && per_parent {
                        ent.id = Id::Position {
                            per_parent: false,
                            why: "a tree's legacy ids are unique per user, and no field is"
                                .to_string(),
                            field: absent_key(ent),
                        };
                    }
                    if let Id::Field { field, .. } = &ent.id {
                        let field = field.clone();
                        ent.columns.retain(|c| c.path != [field.clone()]);
                    }
                }
                Shape::Keyed | Shape::Scalars { keyed: true } => {
                    ent.id = Id::Key {
                        per_parent: self.keys_repeated.get(&e).copied().unwrap_or(0) > 0,
                    };
                }
                _ => {}
            }
        }
    }

    /// A field every element has, unique per user (or per parent when nested), named like an
    /// id; else the position.
    fn legacy_id(&self, e: usize, ent: &Entity, nested: bool) -> Id {
        let objects = self.objects.get(&e).copied().unwrap_or(0);
        let mut candidates: Vec<(&String, &FieldEvidence)> = self
            .fields
            .range((e, String::new())..(e + 1, String::new()))
            .map(|((_, k), f)| (k, f))
            .filter(|(k, f)| {
                id_rank(k).is_some()
                    && f.strings + f.integers == objects
                    && (f.strings == 0 || f.integers == 0)
            })
            .collect();
        candidates.sort_by_key(|(k, f)| (id_rank(k), f.repeated_in_docs));
        let absent = absent_key(ent);
        let Some((field, f)) = candidates.first() else {
            let why = match self
                .fields
                .range((e, String::new())..(e + 1, String::new()))
                .find(|((_, k), _)| id_rank(k).is_some())
            {
                Some(((_, k), _)) => format!("`{k}` is missing or empty in some elements"),
                None => "no field named like an id".to_string(),
            };
            return Id::Position {
                per_parent: nested,
                why,
                field: absent,
            };
        };
        let number = f.strings == 0;
        let kind = if number { "whole numbers" } else { "strings" };
        let field = field.to_string();
        if f.repeated_in_docs == 0 {
            return Id::Field {
                evidence: format!(
                    "`{field}`: {kind} in all {objects} elements, unique within each of the {} \
                     documents holding any",
                    f.docs
                ),
                field,
                number,
                per_parent: false,
                repeated: 0,
            };
        }
        if nested && f.repeated_in_parent == 0 {
            return Id::Field {
                evidence: format!(
                    "`{field}`: {kind} in all {objects} elements, unique within each parent \
                     but repeated across parents in {} of {} documents",
                    f.repeated_in_docs, f.docs
                ),
                field,
                number,
                per_parent: true,
                repeated: 0,
            };
        }
        if f.repeated_in_docs * 10 <= f.docs {
            let (user, value) = f.example.clone().unwrap_or_default();
            return Id::Field {
                evidence: format!(
                    "`{field}`: {kind} in all {objects} elements, unique within {} of {} \
                     documents; repeated in {} (user {user} has {value} twice): a data error, so \
                     on_duplicate_id: error stops those users (keep_first would drop the later \
                     element)",
                    f.docs - f.repeated_in_docs,
                    f.docs,
                    f.repeated_in_docs
                ),
                field,
                number,
                per_parent: false,
                repeated: f.repeated_in_docs,
            };
        }
        Id::Position {
            per_parent: nested,
            why: format!(
                "`{field}` repeats within {} of {} documents",
                f.repeated_in_docs, f.docs
            ),
            field: absent,
        }
    }
}

fn id_rank(k: &str) -> Option<usize> {
    let lower = k.to_ascii_lowercase();
    ID_NAMES.iter().position(|n| *n == lower)
}

/// A key no element has, for a legacy id that is always the position.
fn absent_key(ent: &Entity) -> String {
    let has = |k: &str| ent.keys.contains(k);
    let mut name = "id".to_string();
    let mut n = 1;
    while has(&name) {
        name = if n == 1 {
            "position_id".to_string()
        } else {
            format!("position_id_{n}")
        };
        n += 1;
    }
    name
}
