//! Round trip: does the database still say what the source says?
//!
//! The expected document of a user is the source document as the mapping declares it should come
//! back: the preview's rows (conversions, defaults, duplicate and orphan policies applied, dropped
//! keys gone) assembled the way `06_reconstruct.sql` assembles database rows, plus every key of the
//! source document that no entity reads (those are not migrated, so they show up as differences).
//! Arrays of entities are matched by legacy id, so order does not matter.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use crate::ir::{MissingId, Plan};
use crate::jsonpath::FieldPath;
use crate::preview::eval::{self, Row, remove_path, set_path};

/// One place where the rebuilt document differs from the expected one.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// `personas[id=p_1].profile.bio`, or `settings` for a document key.
    pub path: String,
    /// From the source document, as mapped (`None`: absent).
    pub expected: Option<Value>,
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
            let mut obj = match e.extra.as_ref().and_then(|c| r.values.get(c)) {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            let legacy = r.values["legacy_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if !(e.on_missing_id == MissingId::Position && legacy.starts_with('#')) {
                set_path(&mut obj, e.legacy_id.keys(), Value::String(legacy.clone()));
            }
            let mut parent_id = None;
            if let Some(p) = &e.parent {
                let fk = r.values.get(&p.column).cloned().unwrap_or(Value::Null);
                if let (Some(field), Some(id)) = (&p.field, fk.as_str())
                    && let Some(l) = legacy_of.get(id)
                {
                    set_path(&mut obj, field.keys(), (*l).clone());
                }
                parent_id = Some(fk);
            }
            for c in &e.columns {
                if let Some(v) = r.values.get(&c.name).filter(|v| !v.is_null()) {
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
                        Value::Array(kids.into_iter().map(|k| k.2.clone()).collect()),
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
    let mut doc = Map::new();
    for e in plan.entities.iter().filter(|e| !e.path.is_nested()) {
        let mut elems = built.remove(e.name.as_str()).unwrap_or_default();
        elems.sort_by(|a, b| in_order(&a.1, &b.1));
        if !elems.is_empty() {
            set_path(
                &mut doc,
                e.path.levels()[0].keys(),
                Value::Array(elems.into_iter().map(|x| x.2).collect()),
            );
        }
    }
    Value::Object(doc)
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

/// Every difference between the expected and the rebuilt document of one user.
pub fn compare(plan: &Plan, expected: &Value, rebuilt: &Value) -> Vec<Difference> {
    // Where entity arrays sit (schema paths such as `personas[*].contents`), their id field, and
    // whether their order is kept.
    let ids: BTreeMap<String, (FieldPath, bool)> = plan
        .entities
        .iter()
        .map(|e| {
            (
                e.path.to_string(),
                (e.legacy_id.clone(), e.position.is_some()),
            )
        })
        .collect();
    let mut out = Vec::new();
    walk(&ids, "", "", Some(expected), Some(rebuilt), &mut out);
    out
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk(
    ids: &BTreeMap<String, (FieldPath, bool)>,
    shown: &str,
    schema: &str,
    a: Option<&Value>,
    b: Option<&Value>,
    out: &mut Vec<Difference>,
) {
    // An absent array and an empty one migrate the same way.
    let empty = |v: Option<&Value>| {
        v.is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty))
    };
    if ids.contains_key(schema) && empty(a) && empty(b) {
        return;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                walk(
                    ids,
                    &join(shown, k),
                    &join(schema, k),
                    x.get(k),
                    y.get(k),
                    out,
                );
            }
        }
        (x @ (Some(Value::Array(_)) | None), y @ (Some(Value::Array(_)) | None))
            if ids.contains_key(schema) =>
        {
            let (field, ordered) = &ids[schema];
            let none = Vec::new();
            let x = x.and_then(Value::as_array).unwrap_or(&none);
            let y = y.and_then(Value::as_array).unwrap_or(&none);
            let id = |v: &Value| -> String {
                field
                    .keys()
                    .iter()
                    .try_fold(v, |cur, k| cur.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string()
            };
            if *ordered {
                order_difference(shown, x, y, &id, out);
            }
            let xs: BTreeMap<String, &Value> = x.iter().map(|v| (id(v), v)).collect();
            let ys: BTreeMap<String, &Value> = y.iter().map(|v| (id(v), v)).collect();
            let all: BTreeSet<&String> = xs.keys().chain(ys.keys()).collect();
            for k in all {
                let at = format!("{shown}[{field}={k}]");
                walk(
                    ids,
                    &at,
                    &format!("{schema}[*]"),
                    xs.get(k).copied(),
                    ys.get(k).copied(),
                    out,
                );
            }
        }
        (x, y) if x == y => {}
        (x, y) => out.push(Difference {
            path: shown.to_string(),
            expected: x.cloned(),
            rebuilt: y.cloned(),
        }),
    }
}

/// The elements both arrays hold, in another order: one difference for the array.
fn order_difference(
    shown: &str,
    x: &[Value],
    y: &[Value],
    id: &dyn Fn(&Value) -> String,
    out: &mut Vec<Difference>,
) {
    let in_x: BTreeSet<String> = x.iter().map(id).collect();
    let in_y: BTreeSet<String> = y.iter().map(id).collect();
    let common = |v: &[Value], other: &BTreeSet<String>| -> Vec<Value> {
        v.iter()
            .map(id)
            .filter(|i| other.contains(i))
            .map(Value::String)
            .collect()
    };
    let (a, b) = (common(x, &in_y), common(y, &in_x));
    if a != b {
        out.push(Difference {
            path: format!("{shown} (order of legacy ids)"),
            expected: Some(Value::Array(a)),
            rebuilt: Some(Value::Array(b)),
        });
    }
}
