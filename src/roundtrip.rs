//! Round trip: does the database still say what the source says?
//!
//! The reference is the source document as stored. Each user's document rebuilt from the tables is
//! compared with it, and every difference is classified with the help of the mapping's own reading
//! of the source (the preview's rows, assembled the way `06_reconstruct.sql` assembles database
//! rows):
//!
//! - *declared*: the mapping says so: a dropped key, an element a policy leaves out, order where a
//!   mapping turned its position column off. Counted, never silent, not a failure.
//! - *normalized*: the same value in another spelling, as the column type stores it (a timestamp's
//!   text, `"12"` as 12, `"yes"` as true, a default filled in). Counted; `--strict` fails on them.
//! - *lost*: anything else the tables cannot give back: a key no entity reads, `null` or `[]`
//!   become absent, a JSON type changed, an element or its order lost, a value changed. Fails.
//!
//! Arrays of entities are matched by legacy id; their order is compared on its own.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use crate::ir::{DuplicateId, Entity, MissingId, Plan};
use crate::preview::eval::{self, Row, remove_path, set_path};

/// How a difference counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Lost,
    Normalized,
    Declared,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Lost => "lost",
            Class::Normalized => "normalized",
            Class::Declared => "declared",
        }
    }
}

/// One place where the rebuilt document differs from the source document.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// `personas[id=p_1].profile.bio`, or `settings` for a document key.
    pub path: String,
    pub class: Class,
    /// What happened, in a few words (`null became absent`, `timestamp text`, `dropped`).
    pub kind: &'static str,
    /// In the source document (`None`: absent).
    pub source: Option<Value>,
    /// From the database (`None`: absent).
    pub rebuilt: Option<Value>,
}

/// An assembled element: the id of its parent row (nested children), its order (position, then
/// legacy id), the element.
type Built = (Option<Value>, (Option<i64>, String), Value);

/// Assembles documents from rows as `06_reconstruct.sql` does.
pub fn rebuild(plan: &Plan, rows: &[Row]) -> Value {
    let by_entity: HashMap<&str, Vec<&Row>> = rows.iter().fold(HashMap::new(), |mut m, r| {
        m.entry(r.entity.as_str()).or_default().push(r);
        m
    });
    let legacy_of: HashMap<&str, &Value> = rows
        .iter()
        .filter_map(|r| Some((r.values["id"].as_str()?, &r.values["legacy_id"])))
        .collect();
    // Elements per entity, children first, with the id of the row they belong to.
    let mut built: HashMap<&str, Vec<Built>> = HashMap::new();
    for e in plan.entities.iter().rev() {
        let mut elems = Vec::new();
        for r in by_entity.get(e.name.as_str()).into_iter().flatten() {
            if e.scalar {
                // The value column is the element.
                let value = e
                    .columns
                    .first()
                    .and_then(|c| r.values.get(&c.name))
                    .cloned()
                    .unwrap_or(Value::Null);
                let legacy = r.values["legacy_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let parent_id = e
                    .parent
                    .as_ref()
                    .map(|p| r.values.get(&p.column).cloned().unwrap_or(Value::Null));
                let position = e
                    .position
                    .as_ref()
                    .and_then(|c| r.values.get(c))
                    .and_then(Value::as_i64);
                elems.push((parent_id, (position, legacy), value));
                continue;
            }
            let mut obj = match e.extra.as_ref().and_then(|c| r.values.get(c)) {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            let legacy = r.values["legacy_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            // An id kept in extra as a JSON number wins over the text column.
            let kept = |obj: &Map<String, Value>, p: &crate::jsonpath::FieldPath| {
                let (last, above) = p.keys().split_last().expect("a path has a key");
                above
                    .iter()
                    .try_fold(obj, |o, k| o.get(k)?.as_object())
                    .is_some_and(|o| o.contains_key(last))
            };
            let position_id = e.on_missing_id == MissingId::Position && legacy.starts_with('#');
            if !(position_id || e.keyed || e.single || e.is_root() || kept(&obj, &e.legacy_id)) {
                set_path(&mut obj, e.legacy_id.keys(), Value::String(legacy.clone()));
            }
            let mut parent_id = None;
            if let Some(p) = &e.parent {
                let fk = r.values.get(&p.column).cloned().unwrap_or(Value::Null);
                if let (Some(field), Some(id)) = (&p.field, fk.as_str())
                    && let Some(l) = legacy_of.get(id)
                    && !kept(&obj, field)
                {
                    set_path(&mut obj, field.keys(), (*l).clone());
                }
                parent_id = Some(fk);
            }
            for c in &e.columns {
                if let Some(v) = r.values.get(&c.name).filter(|v| !v.is_null())
                    && !(c.keep_original && kept(&obj, &c.path))
                {
                    set_path(&mut obj, c.path.keys(), v.clone());
                }
            }
            for child in plan.entities.iter().filter(|c| {
                c.path.is_nested() && c.parent.as_ref().is_some_and(|p| p.entity == e.name)
            }) {
                let mut kids: Vec<&Built> = built
                    .get(child.name.as_str())
                    .into_iter()
                    .flatten()
                    .filter(|(pid, _, _)| pid.as_ref() == r.values.get("id"))
                    .collect();
                kids.sort_by(|a, b| in_order(&a.1, &b.1));
                if !kids.is_empty() {
                    let key = child.path.levels().last().expect("a path has a level");
                    set_path(
                        &mut obj,
                        key.keys(),
                        collection(child, kids.into_iter().map(|k| (&k.1.1, k.2.clone()))),
                    );
                }
            }
            let position = e
                .position
                .as_ref()
                .and_then(|c| r.values.get(c))
                .and_then(Value::as_i64);
            elems.push((parent_id, (position, legacy), Value::Object(obj)));
        }
        built.insert(&e.name, elems);
    }
    // The root entity's one element is the document; the top-level arrays go into it.
    let mut doc = plan
        .entities
        .iter()
        .find(|e| e.is_root())
        .and_then(|e| built.remove(e.name.as_str()))
        .and_then(|mut b| b.pop())
        .and_then(|(_, _, v)| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default();
    for e in plan
        .entities
        .iter()
        .filter(|e| !e.path.is_nested() && !e.is_root())
    {
        let mut elems = built.remove(e.name.as_str()).unwrap_or_default();
        elems.sort_by(|a, b| in_order(&a.1, &b.1));
        if !elems.is_empty() {
            let items: Vec<(String, Value)> = elems.into_iter().map(|x| (x.1.1, x.2)).collect();
            set_path(
                &mut doc,
                e.path.levels()[0].keys(),
                collection(e, items.iter().map(|(k, v)| (k, v.clone()))),
            );
        }
    }
    Value::Object(doc)
}

/// An entity's elements as the document holds them: an array, or for a keyed entity an object of
/// its members by legacy id.
fn collection<'a>(e: &Entity, mut items: impl Iterator<Item = (&'a String, Value)>) -> Value {
    if e.single {
        return items.next().map(|(_, v)| v).unwrap_or(Value::Null);
    }
    if e.keyed {
        Value::Object(items.map(|(k, v)| (k.clone(), v)).collect())
    } else {
        Value::Array(items.map(|(_, v)| v).collect())
    }
}

/// As `06_reconstruct.sql` orders an array: by position (none last), then by legacy id.
fn in_order(a: &(Option<i64>, String), b: &(Option<i64>, String)) -> std::cmp::Ordering {
    let key = |x: &(Option<i64>, String)| (x.0.is_none(), x.0, x.1.clone());
    key(a).cmp(&key(b))
}

/// What the database should give back for `source`: the mapped rows, reassembled, plus the
/// document keys no entity reads.
pub fn expected(plan: &Plan, user: &str, source: &Value) -> Value {
    let mut findings = Vec::new();
    let rows = eval::evaluate(plan, user, source, &mut findings);
    let mut doc = match rebuild(plan, &rows) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Value::Object(src) = source {
        let mut rest = src.clone();
        for e in plan.entities.iter().filter(|e| !e.path.is_nested()) {
            remove_path(&mut rest, e.path.levels()[0].keys());
        }
        for (k, v) in rest {
            doc.entry(k).or_insert(v);
        }
    }
    Value::Object(doc)
}

/// Every difference between a user's source document and the document rebuilt from the tables.
pub fn compare(plan: &Plan, user: &str, source: &Value, rebuilt: &Value) -> Vec<Difference> {
    let expected = expected(plan, user, source);
    let arrays: BTreeMap<String, &Entity> = plan
        .entities
        .iter()
        .filter(|e| !e.is_root())
        .map(|e| (e.path.to_string(), e))
        .collect();
    let mut w = Walk {
        arrays: &arrays,
        out: Vec::new(),
    };
    w.walk(
        At {
            shown: String::new(),
            schema: String::new(),
            // Keys of the document root belong to the root entity, when there is one.
            entity: plan.entities.iter().find(|e| e.is_root()),
            within: Vec::new(),
        },
        Three {
            source: Some(source),
            expected: Some(&expected),
            rebuilt: Some(rebuilt),
        },
    );
    w.out
}

/// Where the walk is: the path shown, the schema path of entity arrays, and the entity element
/// it is inside (with the keys below the element).
#[derive(Clone)]
struct At<'e> {
    shown: String,
    schema: String,
    entity: Option<&'e Entity>,
    within: Vec<String>,
}

impl<'e> At<'e> {
    fn key(&self, k: &str) -> At<'e> {
        let join = |p: &str| {
            if p.is_empty() {
                k.to_string()
            } else {
                format!("{p}.{k}")
            }
        };
        let mut within = self.within.clone();
        within.push(k.to_string());
        At {
            shown: join(&self.shown),
            schema: join(&self.schema),
            entity: self.entity,
            within,
        }
    }
}

/// The same place in the source, in the mapping's reading of it, and in the tables.
#[derive(Clone, Copy)]
struct Three<'v> {
    source: Option<&'v Value>,
    expected: Option<&'v Value>,
    rebuilt: Option<&'v Value>,
}

struct Walk<'a, 'e> {
    arrays: &'a BTreeMap<String, &'e Entity>,
    out: Vec<Difference>,
}

impl<'e> Walk<'_, 'e> {
    fn walk(&mut self, at: At<'e>, v: Three) {
        if let Some(e) = self.arrays.get(&at.schema).copied() {
            return self.entity_array(at, e, v);
        }
        self.walk_element(at, v);
    }

    fn push(&mut self, at: &At, class: Class, kind: &'static str, v: Three) {
        self.out.push(Difference {
            path: at.shown.clone(),
            class,
            kind,
            source: v.source.cloned(),
            rebuilt: v.rebuilt.cloned(),
        });
    }

    /// A value that differs: why.
    fn leaf(&mut self, at: &At, v: Three) {
        let (class, kind) = match (v.source, v.rebuilt) {
            (Some(Value::Null), None) => (Class::Lost, "null became absent"),
            (Some(_), None) if self.dropped(at) => (Class::Declared, "dropped"),
            (Some(_), None) if at.entity.is_none() => (Class::Lost, "no entity reads it"),
            (Some(_), None) => (Class::Lost, "absent"),
            (None, Some(b)) if v.expected == Some(b) => (Class::Normalized, "default filled in"),
            (None, Some(_)) => (Class::Lost, "not in the source"),
            (Some(_), Some(b))
                if v.expected == Some(b) && self.column(at).is_some_and(|c| c.format.is_some()) =>
            {
                (Class::Normalized, "Unix time as a timestamp")
            }
            (Some(a), Some(b)) if v.expected == Some(b) => converted(a, b),
            _ => (Class::Lost, "value changed"),
        };
        self.push(at, class, kind, v);
    }

    /// The mapped column at this place of an element, if any.
    fn column<'x>(&self, at: &At<'x>) -> Option<&'x crate::ir::Column> {
        at.entity?
            .columns
            .iter()
            .find(|c| c.path.keys() == at.within.as_slice())
    }

    /// Whether the entity's mapping drops this key (or a key above it).
    fn dropped(&self, at: &At) -> bool {
        at.entity
            .is_some_and(|e| e.drop.iter().any(|d| at.within.starts_with(d.keys())))
    }

    /// An array an entity reads: elements matched by legacy id, then their order.
    fn entity_array(&mut self, at: At<'e>, e: &'e Entity, v: Three) {
        if e.single {
            return self.single(at, e, v);
        }
        if e.keyed {
            return self.entity_object(at, e, v);
        }
        let empty = |x: Option<&Value>| x.is_none() || x.is_some_and(Value::is_null);
        match (v.source, v.rebuilt) {
            (Some(Value::Array(a)), None) if a.is_empty() => {
                return self.push(&at, Class::Lost, "empty array became absent", v);
            }
            (Some(Value::Null), None) => {
                return self.push(&at, Class::Lost, "null became absent", v);
            }
            (x, y) if empty(x) && empty(y) => return,
            _ => {}
        }
        if e.scalar {
            // Scalars have no ids: the arrays are compared whole, in order.
            if v.source != v.rebuilt {
                self.leaf(&at, v);
            }
            return;
        }
        let none = Vec::new();
        let list = |x: Option<&Value>| x.and_then(Value::as_array).unwrap_or(&none).clone();
        let (src, exp, reb) = (list(v.source), list(v.expected), list(v.rebuilt));
        let id = |x: &Value| -> String {
            e.legacy_id
                .keys()
                .iter()
                .try_fold(x, |cur, k| cur.get(k))
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .unwrap_or_else(|| "?".into())
        };
        self.order(&at, e, &src, &reb, &id);
        // The first element with an id is the one a row is made of (keep_first); later copies
        // are left out by the duplicate policy.
        let by_id = |xs: &[Value]| -> BTreeMap<String, Value> {
            let mut m = BTreeMap::new();
            for x in xs {
                m.entry(id(x)).or_insert_with(|| x.clone());
            }
            m
        };
        let copies = src.len() - by_id(&src).len();
        if copies > 0 {
            let (class, kind) = match e.on_duplicate_id {
                DuplicateId::KeepFirst => (Class::Declared, "duplicate left out (keep_first)"),
                DuplicateId::Error => (Class::Lost, "duplicate element"),
            };
            for _ in 0..copies {
                self.push(
                    &at,
                    class,
                    kind,
                    Three {
                        expected: None,
                        ..v
                    },
                );
            }
        }
        let (src, exp, reb) = (by_id(&src), by_id(&exp), by_id(&reb));
        self.elements(&at, e, &src, &exp, &reb);
    }

    /// A single object: the one element, compared key by key.
    fn single(&mut self, at: At<'e>, e: &'e Entity, v: Three) {
        let element = At {
            entity: Some(e),
            within: Vec::new(),
            ..at
        };
        match (v.source, v.expected, v.rebuilt) {
            (Some(Value::Null), _, None) => {
                self.push(&element, Class::Lost, "null became absent", v)
            }
            (Some(_), None, None) => {
                self.push(&element, Class::Declared, "left out by a policy", v)
            }
            (Some(_), _, None) => self.push(&element, Class::Lost, "element missing", v),
            (None, _, Some(_)) => self.push(&element, Class::Lost, "element not in the source", v),
            _ => self.walk_element(element, v),
        }
    }

    /// The keys of an object, each walked (an element's, without taking it for an entity array
    /// again).
    fn walk_element(&mut self, at: At<'e>, v: Three) {
        match (v.source, v.rebuilt) {
            (Some(Value::Object(x)), Some(Value::Object(y))) => {
                let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let child = Three {
                        source: x.get(k),
                        expected: v.expected.and_then(|e| e.get(k)),
                        rebuilt: y.get(k),
                    };
                    self.walk(at.key(k), child);
                }
            }
            (x, y) if x == y => {}
            _ => self.leaf(&at, v),
        }
    }

    /// An object keyed by id: its members matched by key (jsonb keeps no order of keys).
    fn entity_object(&mut self, at: At<'e>, e: &'e Entity, v: Three) {
        let empty = |x: Option<&Value>| x.is_none() || x.is_some_and(Value::is_null);
        match (v.source, v.rebuilt) {
            (Some(Value::Object(a)), None) if a.is_empty() => {
                return self.push(&at, Class::Lost, "empty object became absent", v);
            }
            (Some(Value::Null), None) => {
                return self.push(&at, Class::Lost, "null became absent", v);
            }
            (x, y) if empty(x) && empty(y) => return,
            _ => {}
        }
        let members = |x: Option<&Value>| -> BTreeMap<String, Value> {
            x.and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        let (src, exp, reb) = (members(v.source), members(v.expected), members(v.rebuilt));
        self.elements(&at, e, &src, &exp, &reb);
    }

    /// Elements matched by legacy id: present on both sides (compared), or on one only.
    fn elements(
        &mut self,
        at: &At<'e>,
        e: &'e Entity,
        src: &BTreeMap<String, Value>,
        exp: &BTreeMap<String, Value>,
        reb: &BTreeMap<String, Value>,
    ) {
        let ids: BTreeSet<&String> = src.keys().chain(reb.keys()).collect();
        for k in ids {
            let element = At {
                shown: if e.keyed {
                    format!("{}[{k}]", at.shown)
                } else {
                    format!("{}[{}={k}]", at.shown, e.legacy_id)
                },
                schema: format!("{}[*]", at.schema),
                entity: Some(e),
                within: Vec::new(),
            };
            let three = Three {
                source: src.get(k),
                expected: exp.get(k),
                rebuilt: reb.get(k),
            };
            match (three.source, three.expected, three.rebuilt) {
                (Some(_), None, None) => {
                    self.push(&element, Class::Declared, "left out by a policy", three)
                }
                (Some(_), _, None) => self.push(&element, Class::Lost, "element missing", three),
                (None, _, Some(_)) => {
                    self.push(&element, Class::Lost, "element not in the source", three)
                }
                _ => self.walk(element, three),
            }
        }
    }

    /// The elements both sides hold, in another order.
    fn order(
        &mut self,
        at: &At,
        e: &Entity,
        src: &[Value],
        reb: &[Value],
        id: &dyn Fn(&Value) -> String,
    ) {
        let in_src: BTreeSet<String> = src.iter().map(id).collect();
        let in_reb: BTreeSet<String> = reb.iter().map(id).collect();
        let common = |v: &[Value], other: &BTreeSet<String>| -> Vec<Value> {
            let mut seen = BTreeSet::new();
            v.iter()
                .map(id)
                .filter(|i| other.contains(i) && seen.insert(i.clone()))
                .map(Value::String)
                .collect()
        };
        let (a, b) = (common(src, &in_reb), common(reb, &in_src));
        if a == b {
            return;
        }
        let (class, kind) = if e.position.is_some() {
            (Class::Lost, "order of elements")
        } else {
            (Class::Declared, "order not kept (position: false)")
        };
        self.out.push(Difference {
            path: format!("{} (order of legacy ids)", at.shown),
            class,
            kind,
            source: Some(Value::Array(a)),
            rebuilt: Some(Value::Array(b)),
        });
    }
}

/// A value the column stored in another form, as the mapping reads it: normalized, unless a number
/// came back as text (its JSON type is lost).
fn converted(source: &Value, rebuilt: &Value) -> (Class, &'static str) {
    match (source, rebuilt) {
        (Value::Null, _) => (Class::Normalized, "default filled in"),
        (Value::Number(_), Value::String(_)) => (Class::Lost, "number came back as text"),
        (Value::String(_), Value::String(_)) => (Class::Normalized, "text form"),
        (Value::String(_), Value::Number(_)) => (Class::Normalized, "number from text"),
        (Value::Number(_), Value::Number(_)) => (Class::Normalized, "number form"),
        (_, Value::Bool(_)) => (Class::Normalized, "boolean from a word or number"),
        _ => (Class::Normalized, "converted to the column type"),
    }
}
