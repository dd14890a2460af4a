//! What the documents hold, path by path: one [`Node`] per place in the document (an object's
//! key, every element of an array, every member of an object keyed by id), with counts of the
//! JSON types seen there and what each column type would refuse. Memory grows with the number of distinct places, not
//! documents: an object with more distinct keys than [`MAX_FIELDS`] is read as keyed by id at
//! once, its members merged into one place.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

use crate::cast;
use crate::ir::SqlType;

/// An object with more distinct keys than this (over every document) is a map keyed by id.
pub const MAX_FIELDS: usize = 200;
/// Distinct scalar values remembered per place, for the comments on small value sets.
const MAX_VALUES: usize = 8;

/// The column types a scalar may be drafted as, narrowest first within each JSON type.
pub const CANDIDATES: [SqlType; 8] = [
    SqlType::Boolean,
    SqlType::Integer,
    SqlType::Bigint,
    SqlType::Numeric,
    SqlType::Uuid,
    SqlType::Date,
    SqlType::Timestamptz,
    SqlType::Text,
];

/// Date formats a text may be written in, tried by [`Node`] on every string: days first, then
/// months and years alone (partial dates).
pub const DATE_FORMATS: [&str; 8] = [
    "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%Y-%m-%d", "%Y-%m", "%Y",
];

fn date_formats() -> &'static [cast::DateFormat] {
    static F: std::sync::OnceLock<Vec<cast::DateFormat>> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        DATE_FORMATS
            .iter()
            .map(|f| cast::DateFormat::parse(f).expect("a date format"))
            .collect()
    })
}

/// One place in the documents.
#[derive(Debug, Default, Clone)]
pub struct Node {
    /// Values seen here, JSON null included.
    pub seen: u64,
    pub nulls: u64,
    pub bools: u64,
    pub numbers: u64,
    /// Numbers that are whole and fit 64 bits.
    pub integers: u64,
    pub strings: u64,
    pub objects: u64,
    pub arrays: u64,
    pub empty: u64,
    /// Per candidate type: values it refuses, values it would give back written otherwise, and
    /// the first refused value.
    pub refused: [u64; CANDIDATES.len()],
    pub inexact: [u64; CANDIDATES.len()],
    pub refused_example: [Option<String>; CANDIDATES.len()],
    /// Per [`DATE_FORMATS`]: strings naming a day of the calendar in that format.
    pub dates: [u64; DATE_FORMATS.len()],
    /// Strings of digits alone; holding a JSON object or array (or the text null); of a
    /// hyphenated uuid's length and hyphens.
    pub digit_strings: u64,
    pub json_strings: u64,
    pub hyphenated: u64,
    /// Whole numbers (or digits) in the range of Unix seconds (2001..2286) and of Unix
    /// milliseconds.
    pub epoch_s: u64,
    pub epoch_ms: u64,
    /// Up to [`MAX_VALUES`] distinct scalar values, and whether there were more.
    pub values: BTreeSet<String>,
    pub more_values: bool,
    /// An object's members by key (not keyed by id).
    pub fields: BTreeMap<String, Node>,
    /// Read as an object keyed by id: its members are `items`.
    pub keyed: bool,
    /// Members of an object whose key the member itself holds in one of its fields.
    pub self_named: u64,
    pub members_seen: u64,
    /// The elements of an array, or the members of a keyed object.
    pub items: Option<Box<Node>>,
    /// Documents with at least one value here.
    pub docs: u64,
    /// The key of the elements' own children, when this is a tree (set by [`Node::fold_trees`]).
    pub recursive: Option<String>,
    /// For array elements with a field naming their kind (`type`): each kind's elements on their
    /// own, and those without it ([`Kinds`]).
    pub kinds: Option<Box<Kinds>>,
}

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
}

impl Node {
    /// Reads one document into the tree rooted here.
    pub fn observe_document(&mut self, doc: &Value) {
        let mut touched = HashSet::new();
        self.observe(doc, "$", &mut touched);
        for path in touched {
            if let Some(node) = self.find_mut(&path) {
                node.docs += 1;
            }
        }
    }

    /// The node at `path` as [`Node::observe`] names places (`$`, `$.orgs[*]`).
    fn find_mut(&mut self, path: &str) -> Option<&mut Node> {
        let mut node = self;
        let mut rest = path.strip_prefix('$')?;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("[*]") {
                node = node.items.as_deref_mut()?;
                rest = r;
            } else {
                let r = rest.strip_prefix('.')?;
                // Keys are escaped by `step`: a key ends at the next unescaped `.` or `[`.
                let (key, r) = split_key(r);
                node = node.fields.get_mut(&key)?;
                rest = r;
            }
        }
        Some(node)
    }

    fn observe(&mut self, v: &Value, path: &str, touched: &mut HashSet<String>) {
        self.seen += 1;
        touched.insert(path.to_string());
        match v {
            Value::Null => self.nulls += 1,
            Value::Bool(_) => {
                self.bools += 1;
                self.scalar(v);
            }
            Value::Number(n) => {
                self.numbers += 1;
                if let Some(i) = n.as_i64() {
                    self.integers += 1;
                    self.count_epoch(i);
                }
                self.scalar(v);
            }
            Value::String(s) => {
                self.strings += 1;
                // Digits may be a Unix time written as text, and braces JSON written as text.
                if let Ok(i) = s.parse::<i64>() {
                    self.digit_strings += 1;
                    self.count_epoch(i);
                }
                let t = s.trim();
                let json = t == "null"
                    || ((t.starts_with('{') || t.starts_with('['))
                        && crate::json::from_str::<Value>(t).is_ok());
                if json {
                    self.json_strings += 1;
                }
                if t.len() == 36 && [8, 13, 18, 23].iter().all(|i| t.as_bytes()[*i] == b'-') {
                    self.hyphenated += 1;
                }
                if t.len() <= 10 && t.bytes().any(|b| b.is_ascii_digit()) {
                    for (i, f) in date_formats().iter().enumerate() {
                        let day = f.to_iso(t).map(Value::String);
                        if day.is_some_and(|d| cast::check(SqlType::Date, &d).is_ok()) {
                            self.dates[i] += 1;
                        }
                    }
                }
                self.scalar(v);
            }
            Value::Array(items) => {
                self.arrays += 1;
                if items.is_empty() {
                    self.empty += 1;
                }
                let inner = format!("{path}[*]");
                let node = self.items.get_or_insert_with(Default::default);
                for item in items {
                    node.observe(item, &inner, touched);
                    Kinds::note(&mut node.kinds, item);
                }
            }
            Value::Object(map) => {
                self.objects += 1;
                if map.is_empty() {
                    self.empty += 1;
                }
                let new_keys = map.keys().filter(|k| !self.fields.contains_key(*k)).count();
                if !self.keyed && self.fields.len() + new_keys > MAX_FIELDS {
                    self.make_keyed();
                }
                if self.keyed {
                    let inner = format!("{path}[*]");
                    let node = self.items.get_or_insert_with(Default::default);
                    for member in map.values() {
                        node.observe(member, &inner, touched);
                    }
                } else {
                    for (k, member) in map {
                        let inner = format!("{path}.{}", step(k));
                        let node = self.fields.entry(k.clone()).or_default();
                        node.observe(member, &inner, touched);
                    }
                }
                for (k, member) in map {
                    self.members_seen += 1;
                    if let Value::Object(m) = member
                        && m.values()
                            .any(|f| cast::scalar_text(f).as_deref() == Some(k))
                    {
                        self.self_named += 1;
                    }
                }
            }
        }
    }

    /// Reads one element on its own, as a place of its own (the elements of one kind).
    pub(super) fn observe_element(&mut self, v: &Value) {
        self.observe(v, "", &mut HashSet::new());
    }

    fn count_epoch(&mut self, i: i64) {
        if (1_000_000_000..10_000_000_000).contains(&i) {
            self.epoch_s += 1;
        } else if (1_000_000_000_000..10_000_000_000_000).contains(&i) {
            self.epoch_ms += 1;
        }
    }

    /// Counts, for every candidate type, whether it holds the scalar `v` and gives it back as it
    /// was.
    fn scalar(&mut self, v: &Value) {
        for (i, ty) in CANDIDATES.iter().enumerate() {
            match cast::convert(*ty, v) {
                Ok(Some(out)) if &out == v => {}
                Ok(_) => self.inexact[i] += 1,
                Err(_) => {
                    self.refused[i] += 1;
                    if self.refused_example[i].is_none() {
                        self.refused_example[i] = Some(shown(v));
                    }
                }
            }
        }
        if self.values.len() < MAX_VALUES {
            self.values.insert(shown(v));
        } else if !self.values.contains(&shown(v)) {
            self.more_values = true;
        }
    }

    /// From now on an object keyed by id: the members read so far become one place.
    pub(super) fn make_keyed(&mut self) {
        self.keyed = true;
        let mut items = self.items.take().map(|b| *b).unwrap_or_default();
        for (_, field) in std::mem::take(&mut self.fields) {
            items.absorb(field);
        }
        self.items = Some(Box::new(items));
    }

    /// Adds what `other` saw to what this node saw.
    pub fn absorb(&mut self, other: Node) {
        self.seen += other.seen;
        self.nulls += other.nulls;
        self.bools += other.bools;
        self.numbers += other.numbers;
        self.integers += other.integers;
        self.strings += other.strings;
        self.objects += other.objects;
        self.arrays += other.arrays;
        self.empty += other.empty;
        for i in 0..CANDIDATES.len() {
            self.refused[i] += other.refused[i];
            self.inexact[i] += other.inexact[i];
            if self.refused_example[i].is_none() {
                self.refused_example[i] = other.refused_example[i].clone();
            }
        }
        for i in 0..DATE_FORMATS.len() {
            self.dates[i] += other.dates[i];
        }
        self.epoch_s += other.epoch_s;
        self.digit_strings += other.digit_strings;
        self.json_strings += other.json_strings;
        self.hyphenated += other.hyphenated;
        self.epoch_ms += other.epoch_ms;
        self.more_values |= other.more_values;
        for v in other.values {
            if self.values.len() < MAX_VALUES {
                self.values.insert(v);
            } else if !self.values.contains(&v) {
                self.more_values = true;
            }
        }
        self.self_named += other.self_named;
        self.members_seen += other.members_seen;
        self.docs = self.docs.max(other.docs);
        if self.keyed {
            let items = self.items.get_or_insert_with(Default::default);
            for (_, f) in other.fields {
                items.absorb(f);
            }
        } else {
            for (k, f) in other.fields {
                self.fields.entry(k).or_default().absorb(f);
            }
        }
        if let Some(o) = other.items {
            match &mut self.items {
                Some(mine) => mine.absorb(*o),
                None => self.items = Some(o),
            }
        }
        match (&mut self.kinds, other.kinds) {
            (Some(mine), Some(theirs)) => mine.absorb(*theirs),
            (None, Some(theirs)) => self.kinds = Some(theirs),
            _ => {}
        }
        if other.keyed && !self.keyed {
            self.make_keyed();
        }
    }
}

/// A key as a place's path writes it: `.` `[` and `\` escaped, so paths split unambiguously.
fn step(k: &str) -> String {
    k.replace('\\', "\\\\")
        .replace('.', "\\.")
        .replace('[', "\\[")
}

/// The first key of a path written by [`step`], and the rest.
fn split_key(s: &str) -> (String, &str) {
    let mut key = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    key.push(n);
                }
            }
            '.' | '[' => return (key, &s[i..]),
            c => key.push(c),
        }
    }
    (key, "")
}

/// A scalar as comments show it.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let cut: String = s.chars().take(40).collect();
            format!("{cut:?}")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_that_repeat_in_every_document_are_fields_and_ids_are_members() {
        let mut root = Node::default();
        for doc in [
            json!({"cards": {"c1": {"id": "c1", "t": 1}}, "s": {"theme": "x", "f": 1}}),
            json!({"cards": {"c2": {"id": "c2"}, "c3": {"id": "c3"}}, "s": {"theme": "y", "f": 2}}),
        ] {
            root.observe_document(&doc);
        }
        root.fold_keyed();
        assert!(root.fields["cards"].keyed);
        assert!(!root.fields["s"].keyed);
        assert_eq!(root.fields["cards"].items.as_ref().unwrap().seen, 3);
    }

    #[test]
    fn an_object_of_more_than_200_distinct_keys_is_keyed_at_once() {
        let mut root = Node::default();
        let keys = |from: usize, to: usize| -> Value {
            Value::Object((from..to).map(|k| (format!("k{k}"), json!(1))).collect())
        };
        // 200 keys, seen twice: still fields.
        root.observe_document(&json!({ "m": keys(0, 200) }));
        root.observe_document(&json!({ "m": keys(0, 200) }));
        assert!(!root.fields["m"].keyed);
        root.observe_document(&json!({ "m": keys(200, 201) }));
        assert!(root.fields["m"].keyed);
        assert_eq!(root.fields["m"].items.as_ref().unwrap().seen, 401);
    }

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

    #[test]
    fn a_tree_folds_into_its_first_level() {
        let mut root = Node::default();
        root.observe_document(
            &json!({"blocks": [{"uid": "a", "children": [{"uid": "b", "children": [{"uid": "c"}]}]}]}),
        );
        root.fold_trees();
        let blocks = root.fields["blocks"].items.as_ref().unwrap();
        assert_eq!(blocks.recursive.as_deref(), Some("children"));
        assert_eq!(blocks.seen, 3);
        assert!(blocks.fields["children"].items.is_none());
    }
}
