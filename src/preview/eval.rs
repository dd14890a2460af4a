//! The mapping evaluated in Rust, for one user's document, by the same rules as the compiled SQL
//! (`03_forward.sql`): the same elements, legacy ids, duplicate and orphan policies, conversions,
//! defaults, `extra` and ids. Tests hold the two equal row by row.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

use crate::cast;
use crate::ids::row_id;
use crate::ir::{DuplicateId, Entity, MissingId, NotADocument, OnMissingParent, Plan};
use crate::jsonpath::FieldPath;

/// One row that would be written: its table and the row as `to_jsonb` of it would read (without
/// `created_at` and `updated_at`, which the database sets).
#[derive(Debug, Clone)]
pub struct Row {
    pub table: String,
    pub entity: String,
    pub values: Map<String, Value>,
}

/// Would this finding stop the batch holding the user?
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The batch would fail and roll back.
    Abort,
    /// Handled by a policy (or kept in `extra`), but worth knowing.
    Note,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    /// Stable name: not_a_document, id_too_long, cast, missing_required, missing_id, not_an_object,
    /// not_an_array, duplicate_id, orphan, unmapped_key, duplicate_user.
    pub kind: &'static str,
    pub entity: String,
    pub user_id: String,
    pub legacy_id: Option<String>,
    pub path: String,
    pub value: Option<Value>,
    pub message: String,
}

fn at<'a>(v: &'a Value, path: &FieldPath) -> Option<&'a Value> {
    path.keys()
        .iter()
        .try_fold(v, |cur, k| cur.as_object()?.get(k))
}

/// The text of a legacy id or reference: a non-empty string or a number, as `#>>` gives it.
fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        n @ Value::Number(_) => cast::scalar_text(n),
        _ => None,
    }
}

/// The JSON type as `jsonb_typeof` names it (SQL NULL reaches the evaluator as JSON null).
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn position(ords: &[usize]) -> String {
    format!(
        "#{}",
        ords.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(".")
    )
}

/// An element of an entity's array, with its position at every level and its enclosing element.
struct Element<'a> {
    value: &'a Value,
    ords: Vec<usize>,
    enclosing: Option<&'a Value>,
}

struct Ctx<'a> {
    user: &'a str,
    findings: &'a mut Vec<Finding>,
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    fn find(
        &mut self,
        severity: Severity,
        kind: &'static str,
        entity: &str,
        legacy_id: Option<&str>,
        path: &str,
        value: Option<&Value>,
        message: String,
    ) {
        self.findings.push(Finding {
            severity,
            kind,
            entity: entity.to_string(),
            user_id: self.user.to_string(),
            legacy_id: legacy_id.map(str::to_string),
            path: path.to_string(),
            value: value.cloned(),
            message,
        });
    }
}

/// The array at `path` of `v`: missing or null is empty; anything else that is not an array stops
/// the batch (the SQL's array_at).
fn array_at<'a>(
    v: &'a Value,
    path: &FieldPath,
    e: &Entity,
    shown: &str,
    cx: &mut Ctx,
) -> &'a [Value] {
    match at(v, path) {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(other) => {
            cx.find(
                Severity::Abort,
                "not_an_array",
                &e.name,
                None,
                shown,
                Some(other),
                "expected an array".into(),
            );
            &[]
        }
    }
}

fn elements<'a>(doc: &'a Value, e: &Entity, cx: &mut Ctx) -> Vec<Element<'a>> {
    let levels = e.path.levels();
    let prefixes: Vec<String> = (1..=levels.len())
        .map(|n| {
            levels[..n]
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("[*].")
        })
        .collect();
    let mut current: Vec<Element<'a>> = array_at(doc, &levels[0], e, &prefixes[0], cx)
        .iter()
        .enumerate()
        .map(|(i, v)| Element {
            value: v,
            ords: vec![i + 1],
            enclosing: None,
        })
        .collect();
    for (depth, level) in levels.iter().enumerate().skip(1) {
        let mut next = Vec::new();
        for parent in &current {
            for (i, v) in array_at(parent.value, level, e, &prefixes[depth], cx)
                .iter()
                .enumerate()
            {
                let mut ords = parent.ords.clone();
                ords.push(i + 1);
                next.push(Element {
                    value: v,
                    ords,
                    enclosing: Some(parent.value),
                });
            }
        }
        current = next;
    }
    current
}

/// What is left of an element once consumed paths are removed; emptied objects are pruned.
fn residual(elem: &Map<String, Value>, consumed: &[FieldPath]) -> Map<String, Value> {
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
fn leaf_paths(obj: &Map<String, Value>, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in obj {
        let p = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) if !inner.is_empty() => leaf_paths(inner, &p, out),
            _ => out.push(p),
        }
    }
}

/// Rows and findings for one user's document.
pub fn evaluate(plan: &Plan, user: &str, doc: &Value, findings: &mut Vec<Finding>) -> Vec<Row> {
    let mut cx = Ctx { user, findings };
    if user.len() > crate::ids::MAX_ID_BYTES {
        cx.find(
            Severity::Abort,
            "id_too_long",
            "(document)",
            None,
            "user id",
            None,
            format!(
                "the user id is {} bytes long; at most {} fit in an index: apply leaves the user out and verify lists it",
                user.len(),
                crate::ids::MAX_ID_BYTES
            ),
        );
        return Vec::new();
    }
    if !doc.is_object() {
        let (severity, outcome) = match plan.source.not_a_document {
            NotADocument::Error => (
                Severity::Abort,
                "the batch fails (source.not_a_document: error)",
            ),
            NotADocument::Skip => (
                Severity::Note,
                "migrated with no rows (source.not_a_document: skip)",
            ),
        };
        cx.find(
            severity,
            "not_a_document",
            "(document)",
            None,
            "$",
            Some(doc),
            format!(
                "the document is {}, not a JSON object: {outcome}",
                json_type(doc)
            ),
        );
        return Vec::new();
    }
    let mut created: HashMap<&str, HashSet<String>> = HashMap::new();
    let mut rows = Vec::new();
    // Document keys outside every entity's array are not migrated at all.
    if let Value::Object(top) = doc {
        let mut rest = top.clone();
        for e in plan.entities.iter().filter(|e| !e.path.is_nested()) {
            remove_path(&mut rest, e.path.levels()[0].keys());
        }
        let mut paths = Vec::new();
        leaf_paths(&rest, "", &mut paths);
        for p in paths {
            cx.find(
                Severity::Note,
                "unmapped_document_key",
                "",
                None,
                &p,
                None,
                "no entity reads it: it is not migrated (verify --roundtrip reports it)".into(),
            );
        }
    }
    for e in &plan.entities {
        let consumed = e.consumed_paths();
        // Legacy ids first, in array order, as the SQL's src CTE has them.
        let mut candidates: Vec<(Element, String, Option<String>)> = Vec::new();
        for el in elements(doc, e, &mut cx) {
            let pos = position(&el.ords);
            if !el.value.is_object() {
                cx.find(
                    Severity::Abort,
                    "not_an_object",
                    &e.name,
                    None,
                    &e.path.to_string(),
                    Some(el.value),
                    format!("element at {pos} is not a JSON object"),
                );
                continue;
            }
            let legacy = match (id_text(at(el.value, &e.legacy_id)), e.on_missing_id) {
                (Some(id), _) => id,
                (None, MissingId::Position) => pos.clone(),
                (None, MissingId::Error) => {
                    cx.find(
                        Severity::Abort,
                        "missing_id",
                        &e.name,
                        None,
                        &e.legacy_id.to_string(),
                        Some(el.value),
                        format!("element at {pos} has no legacy id"),
                    );
                    continue;
                }
            };
            if legacy.len() > crate::ids::MAX_ID_BYTES {
                cx.find(
                    Severity::Abort,
                    "id_too_long",
                    &e.name,
                    Some(&format!(
                        "{}...",
                        legacy.chars().take(40).collect::<String>()
                    )),
                    &e.legacy_id.to_string(),
                    None,
                    format!(
                        "legacy id is {} bytes long; at most {} fit in an index",
                        legacy.len(),
                        crate::ids::MAX_ID_BYTES
                    ),
                );
            }
            let parent_legacy = match &e.parent {
                None => None,
                Some(p) => match &p.field {
                    Some(f) => id_text(at(el.value, f)),
                    None => el.enclosing.and_then(|enc| {
                        id_text(at(enc, &p.parent_legacy_id)).or_else(|| {
                            (p.parent_on_missing_id == MissingId::Position)
                                .then(|| position(&el.ords[..el.ords.len() - 1]))
                        })
                    }),
                },
            };
            candidates.push((el, legacy, parent_legacy));
        }
        // Duplicate legacy ids within the user.
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (_, legacy, _) in &candidates {
            *seen.entry(legacy.clone()).or_default() += 1;
        }
        for (legacy, n) in seen.iter().filter(|(_, n)| **n > 1) {
            let (severity, what) = match e.on_duplicate_id {
                DuplicateId::Error => (Severity::Abort, "the batch fails (on_duplicate_id: error)"),
                DuplicateId::KeepFirst => (
                    Severity::Note,
                    "the first is kept (on_duplicate_id: keep_first)",
                ),
            };
            cx.find(
                severity,
                "duplicate_id",
                &e.name,
                Some(legacy),
                &e.legacy_id.to_string(),
                None,
                format!("legacy id appears {n} times; {what}"),
            );
        }
        let mut kept: HashSet<String> = HashSet::new();
        for (el, legacy, parent_legacy) in candidates {
            if !kept.insert(legacy.clone()) {
                continue; // keep_first keeps the earliest; error was reported above
            }
            let obj = el.value.as_object().expect("checked above");
            let mut values = Map::new();
            values.insert(
                "id".into(),
                Value::String(row_id(&plan.namespace, &e.name, user, &legacy).to_string()),
            );
            values.insert("user_id".into(), Value::String(user.to_string()));
            values.insert("legacy_id".into(), Value::String(legacy.clone()));
            if let Some(p) = &e.parent {
                let shown = p
                    .field
                    .as_ref()
                    .map_or_else(|| e.path.to_string(), ToString::to_string);
                let found = parent_legacy.as_ref().filter(|pl| {
                    created
                        .get(p.entity.as_str())
                        .is_some_and(|s| s.contains(*pl))
                });
                let id = found.map(|pl| {
                    Value::String(row_id(&plan.namespace, &p.entity, user, pl).to_string())
                });
                if id.is_none() {
                    let reference = parent_legacy.clone().map(Value::String);
                    let (severity, what, skip) = match p.on_missing {
                        OnMissingParent::Error => (
                            Severity::Abort,
                            "the batch fails (on_missing: error)".to_string(),
                            false,
                        ),
                        OnMissingParent::Null => (
                            Severity::Note,
                            match &e.extra {
                                Some(x) => format!(
                                    "{} is set to NULL, the reference kept in {x} (on_missing: null)",
                                    p.column
                                ),
                                None => format!("{} is set to NULL (on_missing: null)", p.column),
                            },
                            false,
                        ),
                        OnMissingParent::Skip => (
                            Severity::Note,
                            "the element is not migrated (on_missing: skip)".to_string(),
                            true,
                        ),
                    };
                    cx.find(
                        severity,
                        "orphan",
                        &e.name,
                        Some(&legacy),
                        &shown,
                        reference.as_ref(),
                        format!("parent {} not found; {what}", p.entity),
                    );
                    if skip {
                        continue;
                    }
                }
                values.insert(p.column.clone(), id.unwrap_or(Value::Null));
            }
            // A reference to a parent that does not exist is kept in extra (on_missing: null).
            let dangling = match (&e.parent, &e.extra) {
                (Some(p), Some(_))
                    if p.on_missing == OnMissingParent::Null
                        && values.get(&p.column) == Some(&Value::Null) =>
                {
                    p.field
                        .as_ref()
                        .and_then(|f| at(el.value, f).map(|v| (f.clone(), v.clone())))
                }
                _ => None,
            };
            for c in &e.columns {
                let v = at(el.value, &c.path);
                let converted = match cast::convert(c.ty, v.unwrap_or(&Value::Null)) {
                    Ok(x) => x,
                    Err(expected) => {
                        cx.find(
                            Severity::Abort,
                            "cast",
                            &e.name,
                            Some(&legacy),
                            &c.path.to_string(),
                            v,
                            format!(
                                "cannot convert value to {}: expected {expected}",
                                c.ty.sql()
                            ),
                        );
                        None
                    }
                };
                let with_default = converted.or_else(|| {
                    c.default
                        .as_ref()
                        .and_then(|d| cast::convert(c.ty, d).ok().flatten())
                });
                if with_default.is_none()
                    && c.required
                    && v.is_none_or(|x| cast::convert(c.ty, x).is_ok())
                {
                    cx.find(
                        Severity::Abort,
                        "missing_required",
                        &e.name,
                        Some(&legacy),
                        &c.path.to_string(),
                        None,
                        "required value is missing".into(),
                    );
                }
                values.insert(c.name.clone(), with_default.unwrap_or(Value::Null));
            }
            let mut rest = residual(obj, &consumed);
            if !rest.is_empty() {
                let mut paths = Vec::new();
                leaf_paths(&rest, "", &mut paths);
                for p in paths {
                    let (severity, what) = match &e.extra {
                        Some(col) => (Severity::Note, format!("kept in {col}")),
                        None => (
                            Severity::Abort,
                            "the batch fails (extra: false)".to_string(),
                        ),
                    };
                    cx.find(
                        severity,
                        "unmapped_key",
                        &e.name,
                        Some(&legacy),
                        &format!("{}[*].{p}", e.path),
                        None,
                        format!("neither mapped nor dropped; {what}"),
                    );
                }
            }
            if let Some((field, v)) = dangling {
                set_path(&mut rest, field.keys(), v);
            }
            if let Some(col) = &e.extra {
                values.insert(
                    col.clone(),
                    if rest.is_empty() {
                        Value::Null
                    } else {
                        Value::Object(rest)
                    },
                );
            }
            created.entry(e.name.as_str()).or_default().insert(legacy);
            rows.push(Row {
                table: e.table.clone(),
                entity: e.name.clone(),
                values,
            });
        }
    }
    rows
}
