//! Arrays of several kinds: a field naming each element's kind (`type`), the kinds with keys of
//! their own split into entities of their own, and the rest taken by one.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::profile::Node;

/// Kinds of elements by the value of one field: each kind's elements profiled on their own.
#[derive(Debug, Default, Clone)]
pub struct Kinds {
    pub field: String,
    /// Per kind, its elements; the empty string holds elements without a kind.
    pub by: BTreeMap<String, Node>,
    pub overflow: bool,
}

/// Fields naming an element's kind.
const KIND_FIELDS: [&str; 5] = ["type", "kind", "action", "event", "op"];
/// More kinds than this are values, not kinds.
pub const MAX_KINDS: usize = 8;

impl Kinds {
    /// Notes `item`, an element of a place whose kinds are `kinds`, under its kind; the first
    /// element with a kind field names the field.
    pub fn note(kinds: &mut Option<Box<Kinds>>, item: &Value) {
        let Value::Object(map) = item else { return };
        if kinds.is_none() {
            let field = map.keys().find(|k| {
                KIND_FIELDS.contains(&k.to_ascii_lowercase().as_str())
                    && map[*k]
                        .as_str()
                        .is_some_and(|v| !v.is_empty() && v.len() <= 64)
            });
            let Some(field) = field else { return };
            *kinds = Some(Box::new(Kinds {
                field: field.clone(),
                ..Kinds::default()
            }));
        }
        let kinds = kinds.as_deref_mut().expect("set above");
        if kinds.overflow {
            return;
        }
        let kind = map.get(&kinds.field).and_then(Value::as_str).unwrap_or("");
        if !kind.is_empty() && !kinds.by.contains_key(kind) && kinds.named() == MAX_KINDS {
            kinds.overflow = true;
            kinds.by.clear();
            return;
        }
        kinds
            .by
            .entry(kind.to_string())
            .or_default()
            .observe_element(item);
    }

    /// Adds what `other` saw; kinds of another field are left out.
    pub fn absorb(&mut self, other: Kinds) {
        if self.field != other.field {
            return;
        }
        self.overflow |= other.overflow;
        for (k, n) in other.by {
            self.by.entry(k).or_default().absorb(n);
        }
        if self.overflow || self.named() > MAX_KINDS {
            self.overflow = true;
            self.by.clear();
        }
    }

    /// Kinds seen (elements without one aside).
    fn named(&self) -> usize {
        self.by.keys().filter(|k| !k.is_empty()).count()
    }

    pub fn fold_keyed(&mut self) {
        self.by.values_mut().for_each(Node::fold_keyed);
    }
}

/// The kinds of elements an entity takes: those named, or (`others`) every kind but those.
#[derive(Debug, Clone)]
pub struct Route {
    pub field: String,
    pub kinds: Vec<String>,
    pub others: bool,
}

impl Route {
    /// Whether an element whose kind field holds `kind` (None: absent or not a string) is taken.
    pub fn takes(&self, kind: Option<&str>) -> bool {
        let named = kind.is_some_and(|k| self.kinds.iter().any(|n| n == k));
        named != self.others
    }
}

/// The kinds of an array to split, each with its elements, and the elements of the others.
pub(super) struct Split {
    pub field: String,
    pub kinds: Vec<(String, Node)>,
    pub rest: Node,
}

/// The kinds of `items` with keys of their own: a key in at least half of the kind's elements
/// and in under a tenth of the others'. None for trees, or when no kind has such a key.
pub(super) fn split_by_kind(items: &Node) -> Option<Split> {
    let kinds = items.kinds.as_deref()?;
    if kinds.overflow
        || items.recursive.is_some()
        || kinds.by.keys().filter(|k| !k.is_empty()).count() < 2
    {
        return None;
    }
    let all: u64 = kinds.by.values().map(|n| n.objects).sum();
    // Keys and the keys of objects one level down (`data.text`), with how often each is seen.
    let leaves = |node: &Node| -> BTreeMap<Vec<String>, u64> {
        let mut out = BTreeMap::new();
        for (k, f) in &node.fields {
            out.insert(vec![k.clone()], f.seen);
            for (k2, f2) in &f.fields {
                out.insert(vec![k.clone(), k2.clone()], f2.seen);
            }
        }
        out
    };
    let leaves: BTreeMap<&String, BTreeMap<Vec<String>, u64>> =
        kinds.by.iter().map(|(k, n)| (k, leaves(n))).collect();
    let own = |kind: &String, node: &Node| {
        let others = all - node.objects;
        leaves[kind].iter().any(|(path, seen)| {
            let elsewhere: u64 = leaves
                .iter()
                .filter(|(k, _)| *k != &kind)
                .filter_map(|(_, l)| l.get(path))
                .sum();
            *path != [kinds.field.clone()]
                && seen * 2 >= node.objects
                && elsewhere * 10 < others.max(1)
        })
    };
    let mut split = Vec::new();
    let mut rest = Node::default();
    for (kind, node) in &kinds.by {
        if !kind.is_empty() && own(kind, node) {
            split.push((kind.clone(), node.clone()));
        } else {
            rest.absorb(node.clone());
        }
    }
    // Two entities cannot read one nested array: a key holding entities in the elements of two
    // groups keeps the array whole.
    let mut holders = BTreeSet::new();
    for node in split.iter().map(|(_, n)| n).chain([&rest]) {
        for (k, f) in &node.fields {
            let entities =
                f.keyed || (f.arrays > 0 && f.items.as_deref().is_some_and(|i| i.strings < i.seen));
            if entities && !holders.insert(k.clone()) {
                return None;
            }
        }
    }
    (!split.is_empty()).then(|| Split {
        field: kinds.field.clone(),
        kinds: split,
        rest,
    })
}

/// `comment_card` -> `comment_cards`, `entry` -> `entries`.
pub(super) fn plural(name: &str) -> String {
    if name.ends_with('s') {
        name.to_string()
    } else if let Some(s) = name.strip_suffix('y') {
        format!("{s}ies")
    } else {
        format!("{name}s")
    }
}

/// A field with a few values that splits the elements into kinds with keys of their own.
pub(super) fn kinds_note(items: &Node) -> Option<String> {
    let (field, f) = items.fields.iter().find(|(k, f)| {
        let k = k.to_ascii_lowercase();
        (k == "type" || k == "kind" || k == "action")
            && f.strings == f.seen
            && !f.more_values
            && f.values.len() > 1
    })?;
    let vals: Vec<&str> = f.values.iter().map(String::as_str).collect();
    Some(format!(
        "`{field}` takes {} values ({}): elements of each kind may go to tables of their own \
         (source.where, docs/mappings.md \"One array of many kinds\")",
        vals.len(),
        vals.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_than_eight_kinds_are_values_not_kinds() {
        let mut kinds = None;
        for k in 0..8 {
            Kinds::note(&mut kinds, &json!({"type": format!("k{k}")}));
        }
        Kinds::note(&mut kinds, &json!({"id": 1}));
        let k = kinds.as_deref().unwrap();
        assert_eq!((k.by.len(), k.overflow), (9, false));
        Kinds::note(&mut kinds, &json!({"type": "k8"}));
        assert!(kinds.unwrap().overflow);
    }
    use serde_json::json;

    #[test]
    fn a_field_with_few_values_splitting_elements_is_noted_as_kinds() {
        let mut root = Node::default();
        root.observe_document(&json!({"log": [{"type": "a", "x": 1}, {"type": "b", "y": 2}]}));
        let note = kinds_note(root.fields["log"].items.as_ref().unwrap()).unwrap();
        assert!(
            note.starts_with("`type` takes 2 values (\"a\", \"b\")"),
            "{note}"
        );
    }
}
