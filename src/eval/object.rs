//! Paths inside a JSON object, as the SQL's `#-`, assemble and lint read them: what is left once
//! paths are consumed, removing and setting a path, the leaves of what is left.

use serde_json::{Map, Value};

use crate::jsonpath::FieldPath;

/// What is left of an element once consumed paths are removed; emptied objects are pruned.
pub(super) fn residual(elem: &Map<String, Value>, consumed: &[FieldPath]) -> Map<String, Value> {
    let mut out = elem.clone();
    for p in consumed {
        remove_path(&mut out, p.keys());
    }
    out
}

/// Removes `keys` from `obj`, and objects the removal leaves empty (the SQL's `#-` and prune).
pub fn remove_path(obj: &mut Map<String, Value>, keys: &[String]) {
    match keys {
        [] => {}
        [last] => {
            obj.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Object(inner)) = obj.get_mut(first) {
                remove_path(inner, rest);
                if inner.is_empty() {
                    obj.remove(first);
                }
            }
        }
    }
}

/// Sets `keys` to `v`, creating objects on the way (the SQL's assemble).
pub fn set_path(obj: &mut Map<String, Value>, keys: &[String], v: Value) {
    match keys {
        [] => {}
        [last] => {
            obj.insert(last.clone(), v);
        }
        [first, rest @ ..] => {
            let entry = obj
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                set_path(inner, rest, v);
            }
        }
    }
}

/// Dotted paths of the leaves (or whole non-object values) in a residual, for the lint report.
pub(super) fn leaf_paths(obj: &Map<String, Value>, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in obj {
        let k = crate::jsonpath::shown_key(k);
        let p = if prefix.is_empty() {
            k.into_owned()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) if !inner.is_empty() => leaf_paths(inner, &p, out),
            _ => out.push(p),
        }
    }
}
