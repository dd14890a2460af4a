//! SQL generation: the plan IR rendered through minijinja templates (`templates/*.sql.j2`).
//!
//! Codegen never talks to a database. Output is deterministic: entities come in foreign-key order,
//! nothing depends on time, paths or hash-map order, and every name goes through the quoting
//! filters of [`crate::ident`].

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value as JValue, context};
use serde_json::Value;

use crate::artifacts::Files;
use crate::cast::DateFormat;
use crate::ident::{derived_name, quote_ident, quote_literal, text_array_literal};
use crate::ir::{Entity, Plan, SqlType, UniqueWithin};
use crate::{Error, ids};

/// The templates, embedded so the binary is self-contained. Order is the order a DBA applies them.
const TEMPLATES: [(&str, &str); 10] = [
    (
        "macros.sql.j2",
        include_str!("../../templates/macros.sql.j2"),
    ),
    (
        "01_schema.sql",
        include_str!("../../templates/01_schema.sql.j2"),
    ),
    (
        "02_audit.sql",
        include_str!("../../templates/02_audit.sql.j2"),
    ),
    (
        "03_forward.sql",
        include_str!("../../templates/03_forward.sql.j2"),
    ),
    (
        "04_verify.sql",
        include_str!("../../templates/04_verify.sql.j2"),
    ),
    (
        "05_rollback.sql",
        include_str!("../../templates/05_rollback.sql.j2"),
    ),
    (
        "06_reconstruct.sql",
        include_str!("../../templates/06_reconstruct.sql.j2"),
    ),
    ("dedupe.sql", include_str!("../../templates/dedupe.sql.j2")),
    ("backup.sql", include_str!("../../templates/backup.sql.j2")),
    ("summary.md", include_str!("../../templates/summary.md.j2")),
];

/// A column default (a JSON scalar from the mapping) as a typed SQL literal.
fn sql_literal(value: &Value, ty: &str) -> String {
    let Some(t) = SqlType::parse(ty) else {
        return quote_literal(&value.to_string());
    };
    match (t, value) {
        (_, Value::Null) => "NULL".into(),
        (SqlType::Jsonb, v) => format!("{}::jsonb", quote_literal(&v.to_string())),
        (SqlType::TextArray, Value::Array(items)) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Value::Null => "NULL".into(),
                    Value::String(s) => quote_literal(s),
                    other => quote_literal(&other.to_string()),
                })
                .collect();
            format!("ARRAY[{}]::text[]", parts.join(", "))
        }
        // Integral text such as "12.0" is valid for the column but not for ::integer directly.
        (SqlType::Integer | SqlType::Bigint, v) => {
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            format!("{}::numeric::{}", quote_literal(text.trim()), t.sql())
        }
        (_, Value::String(s)) => format!("{}::{}", quote_literal(s), t.sql()),
        (_, v) => format!("{}::{}", quote_literal(&v.to_string()), t.sql()),
    }
}

/// The keys of a path as `ir` displays it (an empty path has none).
fn path_keys(shown: &str) -> Vec<String> {
    match crate::jsonpath::parse_field(shown) {
        Ok(p) => p.keys().to_vec(),
        Err(_) if shown.is_empty() => Vec::new(),
        Err(_) => shown.split('.').map(str::to_string).collect(),
    }
}

/// A path as `assemble` takes it: dotted text, or, when a key holds a dot or the path would start
/// with `[`, a JSON array of its keys (which `assemble` reads only in plans with such keys).
fn assemble_path(keys: &[String]) -> String {
    if needs_json_path(keys) {
        quote_literal(&Value::from(keys.to_vec()).to_string())
    } else {
        quote_literal(&keys.join("."))
    }
}

fn needs_json_path(keys: &[String]) -> bool {
    keys.iter().any(|k| k.contains('.')) || keys.first().is_some_and(|k| k.starts_with('['))
}

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

fn environment() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .map_err(|e| Error::Template(e.to_string()))?;
    env.set_syntax(syntax);
    env.add_filter("ident", |s: String| quote_ident(&s));
    env.add_filter("lit", |s: String| quote_literal(&s));
    // Free text from the spec inside a `--` comment: a line break would end the comment and turn
    // the rest into SQL, so every control character becomes a space.
    env.add_filter("comment", |s: String| {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
    });
    // Paths reach templates as mappings write them (`settings."dark mode"`); these filters read
    // the keys back: as a text[] for `#>`, one key for `->`, or a path for `assemble`.
    env.add_filter("path", |s: String| text_array_literal(&path_keys(&s)));
    env.add_filter("key", |s: String| quote_literal(&path_keys(&s).join(".")));
    env.add_filter("key_count", |s: String| path_keys(&s).len());
    env.add_filter("apath", |s: String| assemble_path(&path_keys(&s)));
    // Defaults arrive as JSON text, so a numeric default keeps the digits it was written with.
    env.add_filter("sql_literal", |json: String, ty: String| {
        sql_literal(&serde_json::from_str(&json).unwrap_or(Value::Null), &ty)
    });
    // A date format (validated already) as the pattern values match and the ISO rewrite.
    env.add_filter("date_regex", |f: String| {
        DateFormat::parse(&f)
            .map(|f| quote_literal(&f.regex()))
            .unwrap_or_default()
    });
    env.add_filter("date_iso", |f: String| {
        DateFormat::parse(&f)
            .map(|f| quote_literal(&f.iso_replacement()))
            .unwrap_or_default()
    });
    for (name, text) in TEMPLATES {
        env.add_template(name, text)
            .map_err(|e| Error::Template(format!("{name}: {e:#}")))?;
    }
    Ok(env)
}

/// What `extra` keeps besides the residual, as (path, test, value) for the forward script: legacy
/// ids and parent references that are JSON numbers (the text columns would give them back as
/// strings), mapped keys holding JSON null (a NULL column cannot tell null from absent), and
/// nested entity arrays that are null or empty (they give no rows). Only with an extra column.
fn kept(e: &Entity) -> Value {
    if e.extra.is_none() {
        return Value::Array(Vec::new());
    }
    let path_of = |p: &crate::jsonpath::FieldPath| text_array_literal(p.keys());
    let mut out = Vec::new();
    let mut number = |p: &crate::jsonpath::FieldPath| {
        let get = format!("x.elem #> {}", path_of(p));
        let test = format!("jsonb_typeof({get}) = 'number'");
        out.push(serde_json::json!({
            "path": p.to_string(),
            "value": format!("CASE WHEN {test} THEN {get} END"),
            "test": test,
        }));
    };
    if !e.is_root() {
        number(&e.legacy_id);
    }
    if let Some(f) = e.parent.as_ref().and_then(|p| p.field.as_ref()) {
        number(f);
    }
    for r in &e.references {
        number(&r.field);
    }
    for (i, c) in e.columns.iter().enumerate() {
        // keep_original: the source's scalar as it was written (nulls are kept below anyway).
        let test = if c.keep_original {
            format!("x.t{i} IN ('null', 'string', 'number', 'boolean')")
        } else {
            format!("x.t{i} = 'null'")
        };
        let value = if c.keep_original {
            format!("CASE WHEN {test} THEN x.v{i} END")
        } else {
            format!("CASE WHEN {test} THEN 'null'::jsonb END")
        };
        out.push(serde_json::json!({
            "path": c.path.to_string(),
            "value": value,
            "test": test,
        }));
    }
    for k in &e.child_arrays {
        let get = format!("x.elem -> {}", quote_literal(k));
        let test = format!("{get} IN ('null'::jsonb, '[]'::jsonb, '{{}}'::jsonb)");
        out.push(serde_json::json!({
            "path": crate::jsonpath::FieldPath(vec![k.clone()]).to_string(),
            "value": format!("CASE WHEN {test} THEN {get} END"),
            "test": test,
        }));
    }
    Value::Array(out)
}

/// What templates need of an entity beyond the IR: derived names and path pieces.
fn entity_context(e: &Entity) -> Value {
    let mut v = serde_json::to_value(e).expect("IR serializes");
    let levels: Vec<String> = e.path.levels().iter().map(ToString::to_string).collect();
    let prefixes: Vec<String> = (1..=levels.len())
        .map(|n| levels[..n].join("[*]."))
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
    insert_kept(obj, kept(e));
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
    let mut prune: Vec<Vec<String>> = consumed
        .iter()
        .filter(|p| p.keys().len() > 1 && !top.iter().any(|t| t == p.head()))
        .flat_map(|p| (1..p.keys().len()).map(|n| p.keys()[..n].to_vec()))
        .collect();
    prune.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
    prune.dedup();
    obj.insert("consumed_top".into(), top.into());
    obj.insert("consumed_nested".into(), nested.into());
    obj.insert(
        "prune".into(),
        prune
            .into_iter()
            .map(|p| crate::jsonpath::FieldPath(p).to_string())
            .collect::<Vec<_>>()
            .into(),
    );
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
        }
    }
}

/// A JSON value as a template value. Done by hand because serde_json's exact numbers would
/// otherwise reach templates as opaque maps.
fn to_template(v: &Value) -> JValue {
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

/// Renders every file of the plan: name -> SQL text.
pub fn render(plan: &Plan) -> Result<Files, Error> {
    let env = environment()?;
    let ctx = template_context(plan);
    let mut files = Files::new();
    for (name, _) in TEMPLATES.iter().filter(|(n, _)| n.ends_with(".sql")) {
        files.insert((*name).to_string(), render_one(&env, name, &ctx)?);
    }
    Ok(files)
}

/// The plan compiled: its files, and the same SQL in the parts the executor runs.
pub fn compile(plan: &Plan) -> Result<crate::compiled::Compiled, Error> {
    Ok(crate::compiled::Compiled::new(render(plan)?))
}

/// A Markdown summary of the plan for a pull request: mapping tables, an ER diagram (Mermaid) and
/// risk notes.
pub fn render_summary(plan: &Plan) -> Result<String, Error> {
    render_one(&environment()?, "summary.md", &template_context(plan))
}

fn render_one(env: &Environment<'static>, name: &str, ctx: &JValue) -> Result<String, Error> {
    let tmpl = env
        .get_template(name)
        .map_err(|e| Error::Template(format!("{name}: {e:#}")))?;
    let text = tmpl
        .render(ctx)
        .map_err(|e| Error::Template(format!("{name}: {e:#}")))?;
    Ok(normalize(&text))
}

/// What every template sees: the plan, with derived fields per entity.
fn template_context(plan: &Plan) -> JValue {
    let mut plan_ctx = serde_json::to_value(plan).expect("IR serializes");
    let mut entities: Vec<Value> = plan.entities.iter().map(entity_context).collect();
    // Nested children of each entity: their name and the (dotted) key holding their array.
    for (i, e) in plan.entities.iter().enumerate() {
        let children: Vec<Value> = plan
            .entities
            .iter()
            .filter(|c| c.path.is_nested() && c.parent.as_ref().is_some_and(|p| p.entity == e.name))
            .map(|c| serde_json::json!({"name": c.name, "key": c.path.levels().last().map(ToString::to_string), "keyed": c.keyed, "single": c.single}))
            .collect();
        entities[i]["nested_children"] = Value::Array(children);
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
    plan_ctx["entities"] = Value::Array(entities);
    plan_ctx["json_paths"] = json_paths.into();
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
    context! {
        plan => to_template(&plan_ctx),
        version => env!("CARGO_PKG_VERSION"),
        row_name_example => ids::row_name("orgs", "user-1", "org_1"),
        max_id_bytes => ids::MAX_ID_BYTES,
    }
}

/// Collapses runs of blank lines left by template control flow and trims trailing spaces, so the
/// output reads as hand-written SQL.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals() {
        assert_eq!(sql_literal(&json!("neutral"), "text"), "'neutral'::text");
        assert_eq!(sql_literal(&json!(3), "integer"), "'3'::numeric::integer");
        assert_eq!(
            sql_literal(&json!(["a", "b'c"]), "text[]"),
            "ARRAY['a', 'b''c']::text[]"
        );
        assert_eq!(sql_literal(&json!({"a": 1}), "jsonb"), "'{\"a\":1}'::jsonb");
        assert_eq!(sql_literal(&json!(true), "boolean"), "'true'::boolean");
    }
}
