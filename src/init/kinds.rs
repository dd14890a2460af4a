//! Arrays of several kinds: a field naming each element's kind (`type`), the kinds with keys of
//! their own split into entities of their own, and the rest taken by one.

use std::collections::{BTreeMap, BTreeSet};

use super::profile::Node;

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
