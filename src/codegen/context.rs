//! What templates see: the plan IR as JSON, with what templates need beyond it per entity
//! (derived names, path pieces, the SQL pieces of `extra`) and per plan (which helper functions
//! it needs, which entities share an array).

use minijinja::{Value as JValue, context};
use serde_json::Value;

use super::{assemble_path, needs_json_path, path_keys};
use crate::ident::{derived_name, quote_literal, text_array_literal};
use crate::ids;
use crate::ir::{Entity, Plan, UniqueWithin};

/// Whether any path of the plan needs `assemble`'s JSON form.
fn plan_needs_json_paths(plan: &Plan) -> bool {
    plan.entities.iter().any(|e| {
        let fields = e
            .consumed_paths()
            .into_iter()
            .chain(std::iter::once(e.legacy_id.clone()))
            .chain(e.path.levels().iter().cloned());
        fields.into_iter().any(|p| needs_json_path(p.keys()))
    })
}

/// What `extra` keeps besides the residual, as (path, test, value) for the forward script: legacy
/// ids and parent references that are JSON numbers (the text columns would give them back as
/// strings), mapped keys holding JSON null (a NULL column cannot tell null from absent), objects
/// holding mapped keys that are empty (pruning would drop them), and nested entity arrays that are
/// null or empty (they give no rows), and with `keep_original` a value the column would not give
/// back as written (`rendered`: what the reconstruction gives back for each such column). Only
/// with an extra column.
fn kept(e: &Entity, rendered: &Rendered) -> Value {
    use crate::ir::KeptWhen;
    let out = e
        .kept()
        .iter()
        .map(|k| {
            let at = format!("x.elem #> {}", text_array_literal(k.path.keys()));
            let (test, value) = match k.when {
                KeptWhen::OtherIdType(ty) => {
                    let other = match ty {
                        crate::ir::IdType::Text => "number",
                        crate::ir::IdType::Number => "string",
                    };
                    (format!("jsonb_typeof({at}) = '{other}'"), at)
                }
                KeptWhen::Null { column: i } => {
                    (format!("x.t{i} = 'null'"), "'null'::jsonb".into())
                }
                KeptWhen::NullText { column: i } => (
                    format!(
                        "(x.t{i} = 'null' OR (x.t{i} = 'string' AND btrim(x.v{i} #>> '{{}}', E' \\t\\n\\r') = 'null'))"
                    ),
                    format!("x.v{i}"),
                ),
                KeptWhen::Original { column: i } => (
                    format!(
                        "x.t{i} IN ('null', 'string', 'number', 'boolean') AND ({})::text IS DISTINCT FROM x.v{i}::text",
                        rendered[&(e.name.clone(), i)]
                    ),
                    format!("x.v{i}"),
                ),
                KeptWhen::EmptyObject => (format!("{at} = '{{}}'::jsonb"), "'{}'::jsonb".into()),
                KeptWhen::NoRows { other_than } => {
                    let get = format!("x.elem -> {}", quote_literal(k.path.head()));
                    let other = other_than.map_or(String::new(), |s| {
                        format!(" OR jsonb_typeof({get}) <> '{}'", s.json_type())
                    });
                    (
                        format!("{get} IN ('null'::jsonb, '[]'::jsonb, '{{}}'::jsonb){other}"),
                        get,
                    )
                }
            };
            serde_json::json!({
                "path": k.path.to_string(),
                "value": format!("CASE WHEN {test} THEN {value} END"),
                "test": test,
            })
        })
        .collect();
    Value::Array(out)
}

/// What the reconstruction gives back for each `keep_original` column, by entity and column
/// index, as SQL over `x.v<i>` and `x.t<i>` (see `codegen::rendered_expression`).
pub(super) type Rendered = std::collections::HashMap<(String, usize), String>;

/// What templates need of an entity beyond the IR: derived names and path pieces.
fn entity_context(e: &Entity, rendered: &Rendered) -> Value {
    let mut v = serde_json::to_value(e).expect("IR serializes");
    let levels: Vec<String> = e.path.levels().iter().map(ToString::to_string).collect();
    let prefixes: Vec<String> = (1..=levels.len())
        .map(|n| crate::jsonpath::ArrayPath(e.path.levels()[..n].to_vec()).to_string())
        .collect();
    let obj = v
        .as_object_mut()
        .expect("an entity serializes to an object");
    if let Some(Value::Array(columns)) = obj.get_mut("columns") {
        for c in columns {
            if let Some(d) = c
                .get("default")
                .filter(|d| !d.is_null())
                .map(ToString::to_string)
            {
                c["default"] = Value::String(d);
            }
        }
    }
    obj.insert("is_root".into(), e.is_root().into());
    // Values of the document that decide how a column is read (a date's formats by locale).
    let doc_values: Vec<Value> = e
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let by = c.parsed.as_ref()?.format_by.as_ref()?;
            Some(serde_json::json!({"column": i, "path": by.path.to_string()}))
        })
        .collect();
    obj.insert("doc_values".into(), doc_values.into());
    insert_kept(obj, kept(e, rendered));
    insert_consumed(obj, e);
    obj.insert("depth".into(), levels.len().into());
    obj.insert("path_levels".into(), levels.into());
    obj.insert("path_prefixes".into(), prefixes.into());
    insert_names(obj, e);
    v
}

/// The paths an entity's mapping consumes: whole top-level keys, nested paths under keys
/// not consumed whole, and the parent objects of nested paths (outermost first), each pruned
/// if mapping emptied it.
fn insert_consumed(obj: &mut serde_json::Map<String, Value>, e: &Entity) {
    let consumed = e.consumed_paths();
    let top: Vec<String> = consumed
        .iter()
        .filter(|p| p.keys().len() == 1)
        .map(|p| p.head().to_string())
        .collect();
    let nested: Vec<String> = consumed
        .iter()
        .filter(|p| p.keys().len() > 1 && !top.iter().any(|t| t == p.head()))
        .map(ToString::to_string)
        .collect();
    let prune: Vec<String> = e
        .emptied_objects()
        .iter()
        .map(ToString::to_string)
        .collect();
    obj.insert("consumed_top".into(), top.into());
    obj.insert("consumed_nested".into(), nested.into());
    obj.insert("prune".into(), prune.into());
}

/// The kept elements, and the joined SQL pieces templates splice in for them.
fn insert_kept(obj: &mut serde_json::Map<String, Value>, kept: Value) {
    if let Value::Array(items) = &kept {
        let join = |field: &str, sep: &str| {
            items
                .iter()
                .filter_map(|k| k[field].as_str())
                .collect::<Vec<_>>()
                .join(sep)
        };
        obj.insert(
            "kept_test".into(),
            join("test", "\n                  OR ").into(),
        );
        obj.insert(
            "kept_values".into(),
            join("value", ",\n                               ").into(),
        );
        let paths: Vec<String> = items
            .iter()
            .filter_map(|k| k["path"].as_str())
            .map(|p| assemble_path(&path_keys(p)))
            .collect();
        obj.insert("kept_paths".into(), paths.join(", ").into());
    }
    obj.insert("kept".into(), kept);
}

/// Constraint, trigger and policy names, shortened to fit an identifier.
fn insert_names(obj: &mut serde_json::Map<String, Value>, e: &Entity) {
    let per_user = derived_name(&[&e.table, "user_id", "legacy_id"], "key");
    let unique = match (&e.parent, e.unique_within) {
        (Some(p), UniqueWithin::Parent) => {
            derived_name(&[&e.table, "user_id", &p.column, "legacy_id"], "key")
        }
        _ => per_user.clone(),
    };
    obj.insert("unique_name".into(), unique.into());
    obj.insert("user_unique_name".into(), per_user.into());
    obj.insert(
        "trigger_name".into(),
        derived_name(&[&e.table], "touch_updated_at").into(),
    );
    obj.insert(
        "policy_name".into(),
        derived_name(&[&e.table], "owner").into(),
    );
    if let Some(p) = &e.parent {
        obj.insert(
            "fkey_name".into(),
            derived_name(&[&e.table, &p.column], "fkey").into(),
        );
    }
    if let Some(r) = &e.recursive {
        obj.insert(
            "tree_fkey_name".into(),
            derived_name(&[&e.table, &r.column], "fkey").into(),
        );
    }
    if let Some(Value::Array(refs)) = obj.get_mut("references") {
        for (i, (r, ir)) in refs.iter_mut().zip(&e.references).enumerate() {
            r["fkey_name"] = derived_name(&[&e.table, &ir.column], "fkey").into();
            // Templates name a reference's values by it (raw0, rid0), also in filtered loops.
            r["index"] = i.into();
            // A field naming one of several entities: the targets tried before this one, and
            // whether this is the last (whose policy speaks for the field), in words.
            r["earlier"] = ir
                .group
                .iter()
                .copied()
                .take_while(|&j| j != i)
                .collect::<Vec<_>>()
                .into();
            r["last_of_group"] = (ir.group.last() == Some(&i)).into();
            r["targets"] = ir
                .group
                .iter()
                .map(|&j| e.references[j].entity.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
                .into();
        }
    }
}

/// A JSON value as a template value. Done by hand because serde_json's exact numbers would
/// otherwise reach templates as opaque maps.
pub(super) fn to_template(v: &Value) -> JValue {
    match v {
        Value::Null => JValue::from(()),
        Value::Bool(b) => JValue::from(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => JValue::from(i),
            None => JValue::from(n.to_string()),
        },
        Value::String(s) => JValue::from(s.as_str()),
        Value::Array(items) => JValue::from(items.iter().map(to_template).collect::<Vec<_>>()),
        Value::Object(m) => JValue::from(
            m.iter()
                .map(|(k, v)| (k.clone(), to_template(v)))
                .collect::<std::collections::BTreeMap<_, _>>(),
        ),
    }
}

/// What every template sees: the plan, with derived fields per entity.
pub(super) fn template_context(plan: &Plan, rendered: &Rendered) -> JValue {
    let mut plan_ctx = serde_json::to_value(plan).expect("IR serializes");
    let mut entities: Vec<Value> = plan
        .entities
        .iter()
        .map(|e| entity_context(e, rendered))
        .collect();
    // Entities routing one array of many kinds rebuild it together: the first of them (in FK
    // order) stands for all, with the names of every member.
    let members = |e: &Entity| -> Vec<String> {
        plan.sharing_array(e)
            .into_iter()
            .map(|o| o.name.clone())
            .collect()
    };
    let first_of_path = |e: &Entity| members(e).first().is_none_or(|f| *f == e.name);
    // Nested children of each entity: their name and the (dotted) key holding their array.
    for (i, e) in plan.entities.iter().enumerate() {
        // A reference to a nested entity reads that entity's elements from the documents.
        for (k, r) in e.references.iter().enumerate().filter(|(_, r)| r.to_child) {
            let target = plan.entities.iter().position(|t| t.name == r.entity);
            entities[i]["references"][k]["target_index"] = target.into();
        }
        let children: Vec<Value> = plan
            .entities
            .iter()
            .filter(|c| c.path.is_nested() && c.parent.as_ref().is_some_and(|p| p.entity == e.name))
            .filter(|c| first_of_path(c))
            .map(|c| serde_json::json!({"name": c.name, "key": c.path.levels().last().map(ToString::to_string), "keyed": c.keyed, "single": c.single, "members": members(c)}))
            .collect();
        entities[i]["nested_children"] = Value::Array(children);
        // A lookup copies what the entity keeping its path gives back: the view leaves it out.
        entities[i]["route_first"] = (first_of_path(e) && !e.distinct).into();
        // The levels whose enclosing entity takes some kinds only, each with its route.
        entities[i]["enclosing"] = e
            .enclosing_routes
            .iter()
            .enumerate()
            .filter_map(|(depth, r)| {
                Some(serde_json::json!({"depth": depth, "route": r.as_ref()?}))
            })
            .collect::<Vec<Value>>()
            .into();
        entities[i]["route_members"] = members(e).into();
    }
    // Plans whose keys hold dots rebuild documents with a function of their own (see
    // 01_schema.sql), so plans sharing an audit schema never replace each other's.
    let json_paths = plan_needs_json_paths(plan);
    let assemble_fn = if json_paths {
        "assemble_keys"
    } else {
        "assemble"
    };
    for e in &mut entities {
        e["assemble_fn"] = assemble_fn.into();
    }
    if let crate::ir::Layout::Partitioned { partitions } = plan.layout {
        for (ctx, e) in entities.iter_mut().zip(&plan.entities) {
            let names: Vec<String> = (0..partitions)
                .map(|n| derived_name(&[&e.table], &format!("p{n}")))
                .collect();
            ctx["partitions"] = names.into();
        }
    }
    plan_ctx["entities"] = Value::Array(entities);
    plan_ctx["json_paths"] = json_paths.into();
    plan_ctx["keyed_by_user"] = plan.layout.keyed_by_user().into();
    plan_ctx["has_routes"] = plan.entities.iter().any(|e| e.route.is_some()).into();
    plan_ctx["has_trees"] = plan.entities.iter().any(|e| e.recursive.is_some()).into();
    plan_ctx["has_references"] = plan
        .entities
        .iter()
        .any(|e| !e.references.is_empty())
        .into();
    plan_ctx["assemble_fn"] = assemble_fn.into();
    plan_ctx["parsed_columns"] = plan
        .entities
        .iter()
        .any(|e| e.columns.iter().any(|c| c.parsed.is_some()))
        .into();
    plan_ctx["json_text_columns"] = plan
        .entities
        .iter()
        .any(|e| {
            e.columns
                .iter()
                .any(|c| c.format == Some(crate::ir::Format::Json))
        })
        .into();
    let source = crate::source::SourceTable::new(plan);
    context! {
        plan => to_template(&plan_ctx),
        runbook => context! {
            backup => source.backup_rows(),
            review => source.duplicate_users(),
            delete => source.delete_duplicates(),
        },
        version => env!("CARGO_PKG_VERSION"),
        row_name_example => ids::row_name("orgs", "user-1", "org_1"),
        max_id_bytes => ids::MAX_ID_BYTES,
    }
}
