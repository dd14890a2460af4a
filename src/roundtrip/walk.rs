//! The walk over a source document and its rebuilt twin, classifying every difference.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Class, Difference};
use crate::ir::{DuplicateId, Entity, MissingId, Rest};

/// Where the walk is: the path shown, the schema path of entity arrays, and the entity element
/// it is inside (with the keys below the element).
#[derive(Clone)]
pub(super) struct At<'e> {
    pub(super) shown: String,
    pub(super) schema: String,
    pub(super) entity: Option<&'e Entity>,
    pub(super) within: Vec<String>,
}

impl<'e> At<'e> {
    fn key(&self, k: &str) -> At<'e> {
        // Written as mappings write paths, so a key holding a dot cannot read as two.
        let shown = crate::jsonpath::shown_key(k);
        let join = |p: &str| {
            if p.is_empty() {
                shown.to_string()
            } else {
                format!("{p}.{shown}")
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

/// What matches an element on both sides: the entity taking it and its legacy id (or key).
type Key = (String, String);

/// The same place in the source, in the mapping's reading of it, and in the tables.
#[derive(Clone, Copy)]
pub(super) struct Three<'v> {
    pub(super) source: Option<&'v Value>,
    pub(super) expected: Option<&'v Value>,
    pub(super) rebuilt: Option<&'v Value>,
}

pub(super) struct Walk<'a, 'e> {
    pub(super) arrays: &'a BTreeMap<String, &'e Entity>,
    /// The plan, to find which entity of an array of many kinds takes an element.
    pub(super) plan: &'e crate::ir::Plan,
    pub(super) out: Vec<Difference>,
}

impl<'e> Walk<'_, 'e> {
    pub(super) fn walk(&mut self, at: At<'e>, v: Three) {
        if let Some(e) = self.arrays.get(&at.schema).copied() {
            return self.entity_array(at, e, v);
        }
        // A recursive entity's children are its own elements again, at any depth.
        if let Some(e) = at.entity
            && let Some(t) = &e.recursive
            && at.within.as_slice() == t.key.keys()
        {
            return self.entity_array(at, e, v);
        }
        self.walk_element(at, v);
    }

    /// The entity that takes an element of `e`'s array: `e` itself, or for an array of many
    /// kinds the one whose `where` names its kind (else the one taking the other kinds, else `e`
    /// for an element no entity takes).
    fn taker(&self, e: &'e Entity, x: Option<&Value>) -> &'e Entity {
        self.taker_of(e, x).unwrap_or(e)
    }

    /// The entity that takes an element of `e`'s array; `None` when no entity of an array of many
    /// kinds takes it (dropped by `others: drop`, or failing its batch).
    fn taker_of(&self, e: &'e Entity, x: Option<&Value>) -> Option<&'e Entity> {
        let Some(route) = &e.route else {
            return Some(e);
        };
        let kind = x.and_then(|x| route.kind_of(x));
        let group = self.plan.sharing_array(e);
        let takes = |f: &dyn Fn(&crate::ir::Route) -> bool| {
            group
                .iter()
                .copied()
                .find(|o| o.route.as_ref().is_some_and(f))
        };
        takes(&|r| kind.as_ref().is_some_and(|k| r.values.contains(k)))
            .or_else(|| takes(&|r| r.rest == Rest::Take))
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
                use crate::ir::Format;
                let kind = match self.column(at).and_then(|c| c.format.as_ref()) {
                    Some(Format::Json) => "JSON text as jsonb writes it",
                    Some(Format::Date(_)) => "date in ISO 8601",
                    _ => "Unix time as a timestamp",
                };
                (Class::Normalized, kind)
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
    fn entity_array<'v>(&mut self, at: At<'e>, e: &'e Entity, v: Three<'v>) {
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
            // Scalars have no ids: the arrays are compared whole, in order. Elements a policy
            // leaves out (a link to no element under `skip`) are what the mapping expects.
            let shorter = |x: Option<&Value>, y: Option<&Value>| {
                x.and_then(Value::as_array).map(Vec::len)
                    < y.and_then(Value::as_array).map(Vec::len)
            };
            if v.source != v.rebuilt && v.expected == v.rebuilt && shorter(v.expected, v.source) {
                self.push(&at, Class::Declared, "left out by a policy", v);
            } else if v.source != v.rebuilt {
                self.leaf(&at, v);
            }
            return;
        }
        // Elements are matched by the entity that takes them and their legacy id: in an array of
        // many kinds, a click and a view may share an id.
        let list = |x: Option<&'v Value>| -> Vec<(Key, &'v Value)> {
            let items: &'v [Value] = x.and_then(Value::as_array).map_or(&[], Vec::as_slice);
            items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let taker = self.taker(e, Some(x));
                    ((taker.name.clone(), element_id(taker, i, x)), x)
                })
                .collect()
        };
        let (src, exp, reb) = (list(v.source), list(v.expected), list(v.rebuilt));
        self.order(&at, e, &src, &reb);
        // The first element with an id is the one a row is made of (keep_first); later copies
        // are left out by the duplicate policy of the entity taking them.
        let by_id = |xs: &[(Key, &'v Value)]| -> BTreeMap<Key, &'v Value> {
            let mut m = BTreeMap::new();
            for (id, x) in xs {
                m.entry(id.clone()).or_insert(*x);
            }
            m
        };
        let mut seen = BTreeSet::new();
        for (key, x) in &src {
            if seen.insert(key) {
                continue;
            }
            let (class, kind) = match self.taker_of(e, Some(x)).map(|t| t.on_duplicate_id) {
                Some(DuplicateId::KeepFirst) => {
                    (Class::Declared, "duplicate left out (keep_first)")
                }
                Some(DuplicateId::Error) => (Class::Lost, "duplicate element"),
                None => (Class::Declared, "left out by a policy"),
            };
            let taker = self.taker(e, Some(x));
            let element = At {
                shown: format!("{}[{}={}]", at.shown, taker.legacy_id, key.1),
                ..at.clone()
            };
            // The copy alone, not the arrays around it: a difference stays the size of one
            // element.
            let copy = Three {
                source: Some(x),
                expected: None,
                rebuilt: None,
            };
            self.push(&element, class, kind, copy);
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
    fn entity_object<'v>(&mut self, at: At<'e>, e: &'e Entity, v: Three<'v>) {
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
        let members = |x: Option<&'v Value>| -> BTreeMap<Key, &'v Value> {
            x.and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| ((e.name.clone(), k.clone()), v))
                        .collect()
                })
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
        src: &BTreeMap<Key, &Value>,
        exp: &BTreeMap<Key, &Value>,
        reb: &BTreeMap<Key, &Value>,
    ) {
        let ids: BTreeSet<&Key> = src.keys().chain(reb.keys()).collect();
        for k in ids {
            let e = self.taker(e, src.get(k).or(reb.get(k)).copied());
            let id = &k.1;
            let element = At {
                shown: if e.keyed {
                    format!("{}[{id}]", at.shown)
                } else {
                    format!("{}[{}={id}]", at.shown, e.legacy_id)
                },
                // A tree's nodes at every depth are its elements: what nests in them is found
                // by the entity's own path.
                schema: if e.recursive.is_some() {
                    format!("{}[*]", e.path)
                } else {
                    format!("{}[*]", at.schema)
                },
                entity: Some(e),
                within: Vec::new(),
            };
            let three = Three {
                source: src.get(k).copied(),
                expected: exp.get(k).copied(),
                rebuilt: reb.get(k).copied(),
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
    fn order(&mut self, at: &At, e: &Entity, src: &[(Key, &Value)], reb: &[(Key, &Value)]) {
        let in_src: BTreeSet<&Key> = src.iter().map(|(id, _)| id).collect();
        let in_reb: BTreeSet<&Key> = reb.iter().map(|(id, _)| id).collect();
        let common = |v: &[(Key, &Value)], other: &BTreeSet<&Key>| -> Vec<Value> {
            let mut seen = BTreeSet::new();
            v.iter()
                .map(|(id, _)| id)
                .filter(|i| other.contains(i) && seen.insert(*i))
                .map(|i| Value::String(i.1.clone()))
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

/// What matches an element of an array on both sides: its legacy id as the SQL reads it (a
/// non-empty string or a number), else, under `on_missing_id: position`, its place in the array.
fn element_id(e: &Entity, index: usize, x: &Value) -> String {
    let id = crate::eval::id_text(e.legacy_id.keys().iter().try_fold(x, |cur, k| cur.get(k)));
    match (id, e.on_missing_id) {
        (Some(id), _) => id,
        (None, MissingId::Position) => format!("#{}", index + 1),
        (None, MissingId::Error) => "?".into(),
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
        // A list of scalars (a scalar entity's values, a text[] column) converted element by
        // element: lost as soon as one element is, as that element alone would be.
        (Value::Array(xs), Value::Array(ys)) if xs.len() == ys.len() => xs
            .iter()
            .zip(ys)
            .filter(|(x, y)| x != y)
            .map(|(x, y)| converted(x, y))
            .find(|(class, _)| *class == Class::Lost)
            .unwrap_or((Class::Normalized, "converted to the column type")),
        _ => (Class::Normalized, "converted to the column type"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Class, converted};
    use serde_json::json;

    /// A number that comes back as text is lost, alone or in a list of scalars.
    #[test]
    fn a_number_that_comes_back_as_text_is_lost_in_a_list_too() {
        assert_eq!(converted(&json!(42), &json!("42")).0, Class::Lost);
        assert_eq!(
            converted(&json!(["wood", 42]), &json!(["wood", "42"])).0,
            Class::Lost
        );
        assert_eq!(
            converted(
                &json!(["2024-05-01 08:30"]),
                &json!(["2024-05-01T08:30:00+00:00"])
            )
            .0,
            Class::Normalized
        );
    }
}
