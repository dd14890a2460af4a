//! Documents assembled from rows as `06_reconstruct.sql` assembles them from the tables.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::eval::{Row, set_path};
use crate::ir::{Entity, MissingId, Plan};

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
        let rows = by_entity.get(e.name.as_str()).cloned().unwrap_or_default();
        let mut elems = Vec::new();
        for r in &rows {
            elems.push(element(plan, e, r, &legacy_of, &built));
        }
        if let Some(t) = &e.recursive {
            elems = nest(t, &rows, elems);
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
        // A lookup copies what the entity keeping its path gives back.
        .filter(|e| !e.path.is_nested() && !e.is_root() && !e.distinct && first_of_path(plan, e))
    {
        let mut elems: Vec<Built> = plan
            .sharing_array(e)
            .into_iter()
            .flat_map(|m| built.remove(m.name.as_str()).unwrap_or_default())
            .collect();
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

/// A recursive entity's elements made into their trees, as `06_reconstruct.sql` nests them: each
/// element's children, in order, under the children's key; the top elements returned.
fn nest(t: &crate::ir::Recursion, rows: &[&Row], elems: Vec<Built>) -> Vec<Built> {
    let id = |r: &Row| {
        r.values
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let up = |r: &Row| {
        r.values
            .get(&t.column)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let depth = |r: &Row| {
        r.values
            .get(&t.depth_column)
            .and_then(Value::as_i64)
            .unwrap_or(1)
    };
    let mut nodes: Vec<(&Row, Built)> = rows.iter().copied().zip(elems).collect();
    // Deepest first, so each element is whole before it goes into its parent.
    nodes.sort_by_key(|(r, _)| std::cmp::Reverse(depth(r)));
    let mut children: HashMap<String, Vec<Built>> = HashMap::new();
    let mut top = Vec::new();
    for (r, (pid, order, mut value)) in nodes {
        if let Some(mut kids) = id(r).and_then(|i| children.remove(&i)) {
            kids.sort_by(|a, b| in_order(&a.1, &b.1));
            if let Value::Object(obj) = &mut value {
                let items = kids.into_iter().map(|k| k.2).collect();
                set_path(obj, t.key.keys(), Value::Array(items));
            }
        }
        match up(r) {
            Some(parent) => children
                .entry(parent)
                .or_default()
                .push((pid, order, value)),
            None => top.push((pid, order, value)),
        }
    }
    top
}

/// As `06_reconstruct.sql` orders an array: by position (none last), then by legacy id.
fn in_order(a: &(Option<i64>, String), b: &(Option<i64>, String)) -> std::cmp::Ordering {
    let key = |x: &(Option<i64>, String)| (x.0.is_none(), x.0, x.1.clone());
    key(a).cmp(&key(b))
}

/// One row as the element `06_reconstruct.sql` makes of it, with its parent's id and its order;
/// `built` holds the elements of the entities below, already made.
fn element(
    plan: &Plan,
    e: &Entity,
    r: &Row,
    legacy_of: &HashMap<&str, &Value>,
    built: &HashMap<&str, Vec<Built>>,
) -> Built {
    let legacy = r.values["legacy_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let position = e
        .position
        .as_ref()
        .and_then(|c| r.values.get(c))
        .and_then(Value::as_i64);
    let parent_id = e
        .parent
        .as_ref()
        .map(|p| r.values.get(&p.column).cloned().unwrap_or(Value::Null));
    if e.scalar {
        // The value column is the element.
        let value = e
            .columns
            .first()
            .and_then(|c| r.values.get(&c.name))
            .cloned()
            .unwrap_or(Value::Null);
        return (parent_id, (position, legacy), value);
    }
    let mut obj = match e.extra.as_ref().and_then(|c| r.values.get(c)) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let position_id = e.on_missing_id == MissingId::Position && legacy.starts_with('#');
    let no_id_field = e.legacy_id.keys().is_empty();
    if !(position_id || e.keyed || e.single || no_id_field || kept(&obj, &e.legacy_id)) {
        set_path(
            &mut obj,
            e.legacy_id.keys(),
            as_id(&Value::String(legacy.clone()), e.id_type),
        );
    }
    if let (Some(p), Some(fk)) = (&e.parent, &parent_id)
        && let (Some(field), Some(id)) = (&p.field, fk.as_str())
        && let Some(l) = legacy_of.get(id)
        && !kept(&obj, field)
    {
        set_path(&mut obj, field.keys(), as_id(l, p.id_type));
    }
    for rf in &e.references {
        if let Some(id) = r.values.get(&rf.column).and_then(Value::as_str)
            && let Some(l) = legacy_of.get(id)
            && !kept(&obj, &rf.field)
        {
            set_path(&mut obj, rf.field.keys(), as_id(l, rf.id_type));
        }
    }
    for c in &e.columns {
        if let Some(v) = r.values.get(&c.name).filter(|v| !v.is_null())
            && !(c.keep_original && kept(&obj, &c.path))
        {
            set_path(&mut obj, c.path.keys(), as_rebuilt(c, v));
        }
    }
    add_children(plan, e, r, built, &mut obj);
    (parent_id, (position, legacy), Value::Object(obj))
}

/// A legacy id (text) as the view gives it back: as a JSON number when the ids are numbers
/// (`::numeric`), else as text.
fn as_id(legacy: &Value, ty: crate::ir::IdType) -> Value {
    match (ty, legacy) {
        (crate::ir::IdType::Number, Value::String(s)) => crate::json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_number)
            .unwrap_or_else(|| legacy.clone()),
        _ => legacy.clone(),
    }
}

/// A column's value as the view gives it back: a Unix time as the integer of its unit (the view's
/// `extract(epoch ...)`), JSON text as jsonb writes it (`::text`), anything else as stored.
fn as_rebuilt(c: &crate::ir::Column, v: &Value) -> Value {
    use crate::ir::Format;
    let unit = match c.format {
        Some(Format::EpochS) => 1_000_000,
        Some(Format::EpochMs) => 1_000,
        Some(Format::Json) => return Value::String(crate::json::jsonb_text(v)),
        _ => return v.clone(),
    };
    v.as_str()
        .and_then(crate::cast::timestamp_micros)
        .map_or_else(|| v.clone(), |us| Value::from(us.div_euclid(unit)))
}

/// Whether `extra` already holds the value at `p` (an id kept as a JSON number, a value kept as
/// the source wrote it): it wins over the column.
fn kept(obj: &Map<String, Value>, p: &crate::jsonpath::FieldPath) -> bool {
    let Some((last, above)) = p.keys().split_last() else {
        return false;
    };
    above
        .iter()
        .try_fold(obj, |o, k| o.get(k)?.as_object())
        .is_some_and(|o| o.contains_key(last))
}

/// The elements of the entities nested in this row's element, in their order.
fn add_children(
    plan: &Plan,
    e: &Entity,
    r: &Row,
    built: &HashMap<&str, Vec<Built>>,
    obj: &mut Map<String, Value>,
) {
    for child in plan
        .entities
        .iter()
        .filter(|c| c.path.is_nested() && c.parent.as_ref().is_some_and(|p| p.entity == e.name))
        .filter(|c| first_of_path(plan, c))
    {
        let mut kids: Vec<&Built> = plan
            .sharing_array(child)
            .into_iter()
            .flat_map(|m| built.get(m.name.as_str()).into_iter().flatten())
            .filter(|(pid, _, _)| pid.as_ref() == r.values.get("id"))
            .collect();
        kids.sort_by(|a, b| in_order(&a.1, &b.1));
        if !kids.is_empty() {
            let key = child.path.levels().last().expect("a path has a level");
            let kids = collection(child, kids.into_iter().map(|k| (&k.1.1, k.2.clone())));
            match kids {
                // Maps of maps: the children are the element's members themselves.
                Value::Object(members) if child.path.reads_members() => obj.extend(members),
                kids => set_path(obj, key.keys(), kids),
            }
        }
    }
}

/// Whether `e` stands for its array: the first entity routing it, or the only one reading it.
fn first_of_path(plan: &Plan, e: &Entity) -> bool {
    plan.sharing_array(e)
        .first()
        .is_none_or(|f| f.name == e.name)
}
