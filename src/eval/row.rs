//! One element of an entity's array made into the row the SQL writes: its id, the parent link
//! under the orphan policy, the converted columns with defaults, and what is left for `extra`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::candidates::Candidate;
use super::context::{Ctx, Kind, Row, Severity, at, id_text, json_type};
use super::object::{leaf_paths, residual, set_path};
use crate::cast;
use crate::ids::row_id;
use crate::ir::{Entity, IdType, KeptWhen, OnMissingParent, ParentLink, Plan};
use crate::jsonpath::FieldPath;

/// The row of one candidate, or `None` when its orphan policy skips it. `created` holds the
/// legacy ids of the rows made so far, per entity (parents come first).
pub(super) fn build(
    plan: &Plan,
    e: &Entity,
    c: &Candidate,
    created: &HashMap<&str, HashSet<String>>,
    cx: &mut Ctx,
) -> Option<Row> {
    let empty = Map::new();
    // Scalar elements have no keys: no extra, no residual.
    let obj = c.element.value.as_object().unwrap_or(&empty);
    let mut values = Map::new();
    values.insert(
        "id".into(),
        Value::String(row_id(&plan.namespace, &e.name, cx.user, &c.key).to_string()),
    );
    values.insert("user_id".into(), Value::String(cx.user.to_string()));
    values.insert("legacy_id".into(), Value::String(c.legacy.clone()));
    if let Some(col) = &e.position {
        let at = c.element.ords.last().copied().unwrap_or_default();
        values.insert(col.clone(), Value::from(at));
    }
    if let Some(p) = &e.parent {
        let id = parent_id(plan, e, p, c, created, cx)?;
        values.insert(p.column.clone(), id);
    }
    if let Some(r) = &e.recursive {
        let up = c.tree.parent.as_ref().map_or(Value::Null, |l| {
            Value::String(row_id(&plan.namespace, &e.name, cx.user, l).to_string())
        });
        values.insert(r.column.clone(), up);
        values.insert(r.depth_column.clone(), Value::from(c.tree.depth));
    }
    // A reference to a parent that does not exist is kept in extra (on_missing: null).
    let mut dangling: Vec<(FieldPath, Value)> = match (&e.parent, &e.extra) {
        (Some(p), Some(_))
            if p.on_missing == OnMissingParent::Null
                && values.get(&p.column) == Some(&Value::Null) =>
        {
            p.field
                .as_ref()
                .and_then(|f| at(c.element.value, f).map(|v| (f.clone(), v.clone())))
                .into_iter()
                .collect()
        }
        _ => Vec::new(),
    };
    let refs = super::references::resolve(plan, e, c, created, cx)?;
    values.extend(refs.columns);
    dangling.extend(refs.kept);
    for col in &e.columns {
        values.insert(col.name.clone(), column_value(e, col, c, cx));
        if let Some(p) = &col.parsed {
            let (date, precision) = parsed_value(e, col, p, c, cx);
            values.insert(p.name.clone(), date);
            if let Some(name) = &p.precision {
                values.insert(name.clone(), precision.map_or(Value::Null, Value::from));
            }
        }
    }
    if let Some(x) = &e.extra {
        let extra = extra_value(e, obj, c, &values, dangling, cx);
        values.insert(x.clone(), extra);
    } else if !e.scalar && !e.distinct {
        // Keys a lookup does not map are the keeping entity's to report.
        extra_value(e, obj, c, &values, dangling, cx);
    }
    Some(Row {
        table: e.table.clone(),
        entity: e.name.clone(),
        values,
    })
}

/// The parent link's value (NULL under `on_missing: null`), or `None` when the element is skipped.
fn parent_id(
    plan: &Plan,
    e: &Entity,
    p: &ParentLink,
    c: &Candidate,
    created: &HashMap<&str, HashSet<String>>,
    cx: &mut Ctx,
) -> Option<Value> {
    let found = c.parent_legacy.as_ref().filter(|pl| {
        created
            .get(p.entity.as_str())
            .is_some_and(|s| s.contains(*pl))
    });
    if let Some(pl) = found {
        return Some(Value::String(
            row_id(&plan.namespace, &p.entity, cx.user, pl).to_string(),
        ));
    }
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
    let shown = p
        .field
        .as_ref()
        .map_or_else(|| e.path.to_string(), ToString::to_string);
    cx.find(
        severity,
        Kind::Orphan,
        &e.name,
        Some(&c.legacy),
        &shown,
        c.parent_legacy.clone().map(Value::String).as_ref(),
        format!("parent {} not found; {what}", p.entity),
    );
    (!skip).then_some(Value::Null)
}

/// A mapped column's value: converted, else its default; a missing required value is reported.
fn column_value(e: &Entity, col: &crate::ir::Column, c: &Candidate, cx: &mut Ctx) -> Value {
    let v = at(c.element.value, &col.path);
    let converted = match cast::convert_column(col, v.unwrap_or(&Value::Null)) {
        Ok(x) => x,
        Err(expected) => {
            cx.find(
                Severity::Abort,
                Kind::Cast,
                &e.name,
                Some(&c.legacy),
                &col.path.to_string(),
                v,
                format!(
                    "cannot convert value to {}: expected {expected}",
                    col.ty.sql()
                ),
            );
            None
        }
    };
    // A number or boolean stored as text comes back as a string: its JSON type is lost.
    // A lookup is not rebuilt from: what comes back is the keeping entity's.
    if col.ty == crate::ir::SqlType::Text
        && !e.distinct
        && !col.keep_original
        && matches!(v, Some(Value::Number(_) | Value::Bool(_)))
    {
        cx.find(
            Severity::Note,
            Kind::TypeLost,
            &e.name,
            Some(&c.legacy),
            &col.path.to_string(),
            v,
            format!(
                "a JSON number or boolean in a text column comes back as a string (verify --roundtrip: lost); choose a numeric or boolean type{}",
                // keep_original needs an extra column, which a scalar's row has not.
                if e.scalar || e.extra.is_none() {
                    ""
                } else {
                    ", or keep_original: true"
                }
            ),
        );
    }
    let with_default = converted.or_else(|| {
        col.default
            .as_ref()
            .and_then(|d| cast::convert(col.ty, d).ok().flatten())
    });
    if with_default.is_none()
        && col.required
        && v.is_none_or(|x| cast::convert_column(col, x).is_ok())
    {
        cx.find(
            Severity::Abort,
            Kind::MissingRequired,
            &e.name,
            Some(&c.legacy),
            &col.path.to_string(),
            None,
            "required value is missing".into(),
        );
    }
    with_default.unwrap_or(Value::Null)
}

/// A free-text date's companion: the date or time the text names, with how much of a date the
/// format that read it holds (`day`, `month`, `year`), else NULL and a note (the text column keeps
/// the value either way).
fn parsed_value(
    e: &Entity,
    col: &crate::ir::Column,
    parsed: &crate::ir::Column,
    c: &Candidate,
    cx: &mut Ctx,
) -> (Value, Option<&'static str>) {
    let Some(v) = at(c.element.value, &col.path).filter(|v| !v.is_null()) else {
        return (Value::Null, None);
    };
    let precision = |f: Option<&crate::ir::Format>| match f {
        Some(crate::ir::Format::Date(written)) => cast::DateFormat::parse(written)
            .map(|d| d.precision())
            .unwrap_or("day"),
        _ => "day",
    };
    // The formats the document's own value chooses (its locale), else the companion's; each in
    // order: the first that reads the text; none, and the note names them all.
    let chosen = parsed
        .format_by
        .as_ref()
        .and_then(|by| id_text(at(cx.doc, &by.path)));
    let mut expected = Vec::new();
    for f in parsed.formats_for(chosen.as_deref()) {
        let tried = cast::convert_column(
            &crate::ir::Column {
                format: f.cloned(),
                ..parsed.clone()
            },
            v,
        );
        match tried {
            Ok(Some(x)) => return (x, Some(precision(f))),
            Ok(None) => return (Value::Null, None),
            Err(e) => expected.push(e),
        }
    }
    cx.find(
        Severity::Note,
        Kind::Unparsed,
        &e.name,
        Some(&c.legacy),
        &col.path.to_string(),
        Some(v),
        format!(
            "not {}: kept as text in {}, {} is NULL",
            expected.join(", or "),
            col.name,
            parsed.name
        ),
    );
    (Value::Null, None)
}

/// What `extra` holds: the keys neither mapped nor dropped (each a finding), and dangling
/// references (to the parent, or others).
fn extra_value(
    e: &Entity,
    obj: &Map<String, Value>,
    c: &Candidate,
    values: &Map<String, Value>,
    dangling: Vec<(FieldPath, Value)>,
    cx: &mut Ctx,
) -> Value {
    // Every member of the element is another entity's element (maps of maps).
    let mut rest = if e.members_entity.is_some() {
        Map::new()
    } else {
        residual(obj, &e.consumed_paths())
    };
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
            Kind::UnmappedKey,
            &e.name,
            Some(&c.legacy),
            &element_key_path(e, &p),
            None,
            format!("neither mapped nor dropped; {what}"),
        );
    }
    if e.extra.is_none() {
        return Value::Null;
    }
    keep_what_no_row_carries(e, c.element.value, values, &mut rest);
    for (field, v) in dangling {
        set_path(&mut rest, field.keys(), v);
    }
    if rest.is_empty() {
        Value::Null
    } else {
        Value::Object(rest)
    }
}

/// What no row can carry (the SQL's `kept`): ids that are JSON numbers, mapped keys holding
/// JSON null, objects holding mapped keys that were empty, and nested entity arrays that are
/// null or empty.
fn keep_what_no_row_carries(
    e: &Entity,
    element: &Value,
    values: &Map<String, Value>,
    rest: &mut Map<String, Value>,
) {
    for k in e.kept() {
        let v = at(element, &k.path);
        let keep = match (k.when, v) {
            (KeptWhen::OtherIdType(IdType::Text), Some(Value::Number(_))) => true,
            (KeptWhen::OtherIdType(IdType::Number), Some(Value::String(_))) => true,
            (KeptWhen::Null { .. } | KeptWhen::NullText { .. }, Some(Value::Null)) => true,
            (KeptWhen::NullText { .. }, Some(Value::String(s))) => {
                s.trim_matches([' ', '\t', '\n', '\r']) == "null"
            }
            (KeptWhen::Original { column }, Some(v)) => {
                !v.is_array() && !v.is_object() && !renders_back(&e.columns[column], values, v)
            }
            (KeptWhen::EmptyObject, Some(Value::Object(m))) => m.is_empty(),
            (
                KeptWhen::NoRows {
                    other_than: Some(s),
                },
                Some(v),
            ) if s.json_type() != json_type(v) => true,
            (KeptWhen::NoRows { .. }, Some(Value::Null)) => true,
            (KeptWhen::NoRows { .. }, Some(Value::Array(a))) => a.is_empty(),
            (KeptWhen::NoRows { .. }, Some(Value::Object(m))) => m.is_empty(),
            _ => false,
        };
        if let (true, Some(v)) = (keep, v) {
            set_path(rest, k.path.keys(), v.clone());
        }
    }
}

/// Whether the reconstruction gives `original` back from the column as written
/// (`codegen::rendered_expression`): a Unix time written as an integer, JSON text written as jsonb
/// writes it, anything else when the
/// value as the column stores it is the same JSON (NULL never is).
fn renders_back(col: &crate::ir::Column, values: &Map<String, Value>, original: &Value) -> bool {
    use crate::ir::Format;
    match col.format {
        Some(Format::EpochS | Format::EpochMs) => match original {
            Value::Number(n) => cast::patterns::COMPILED
                .integer_number
                .is_match(&n.to_string()),
            _ => false,
        },
        Some(Format::Json) => values.get(&col.name).is_some_and(|v| {
            !v.is_null() && original.as_str() == Some(&crate::json::jsonb_text(v))
        }),
        _ => values
            .get(&col.name)
            .is_some_and(|v| !v.is_null() && v == original),
    }
}

/// Where a key of an element sits in the document, as the lint shows it: `items[*].note` in an
/// array's elements, `cards.*.note` in a keyed object's members, `settings.note` in a single
/// object, `note` at the root.
fn element_key_path(e: &Entity, key: &str) -> String {
    if e.is_root() {
        key.to_string()
    } else if e.single {
        format!("{}.{key}", e.path)
    } else if e.keyed {
        format!("{}.*.{key}", e.path)
    } else {
        format!("{}[*].{key}", e.path)
    }
}

#[cfg(test)]
mod tests {
    use super::renders_back;
    use crate::ir::{Column, Format, SqlType};
    use crate::jsonpath::FieldPath;
    use serde_json::{Map, Value, json};

    fn column(ty: SqlType, format: Option<Format>) -> Column {
        Column {
            name: "n".into(),
            path: FieldPath(vec!["n".into()]),
            ty,
            required: false,
            default: None,
            keep_original: true,
            format,
            more_formats: Vec::new(),
            precision: None,
            format_by: None,
            parsed: None,
        }
    }

    /// keep_original keeps what the column would not give back as written: the text "12" in an
    /// integer column, not the number 12; a Unix time only when not written as an integer.
    #[test]
    fn only_what_the_column_would_not_give_back_is_kept() {
        let stored = |v: Value| Map::from_iter([("n".to_string(), v)]);
        let int = column(SqlType::Integer, None);
        assert!(renders_back(&int, &stored(json!(12)), &json!(12)));
        assert!(!renders_back(&int, &stored(json!(12)), &json!("12")));
        assert!(!renders_back(&int, &stored(Value::Null), &Value::Null));
        let epoch = column(SqlType::Timestamptz, Some(Format::EpochS));
        let ts = stored(json!("2023-11-14T22:13:20+00:00"));
        assert!(renders_back(&epoch, &ts, &json!(1700000000)));
        assert!(!renders_back(&epoch, &ts, &json!("1700000000")));
    }
}
