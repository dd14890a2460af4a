//! SQL generation: the plan IR rendered through minijinja templates (`templates/*.sql.j2`).
//!
//! Codegen never talks to a database. Output is deterministic: entities come in foreign-key order,
//! nothing depends on time, paths or hash-map order, and every name goes through the quoting
//! filters of [`crate::ident`].

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value as JValue};
use serde_json::Value;

mod context;
pub mod wrap;

use crate::Error;
use crate::artifacts::Files;
use crate::cast::DateFormat;
use crate::ident::{quote_ident, quote_literal, text_array_literal};
use crate::ir::{Plan, SqlType};
use context::template_context;

/// The templates, embedded so the binary is self-contained: the files in the order a DBA applies
/// them, and the parts (`.j2`) that files import or include, rendered into no file of their own.
const TEMPLATES: [(&str, &str); 12] = [
    (
        "macros.sql.j2",
        include_str!("../../templates/macros.sql.j2"),
    ),
    (
        "01_schema.sql",
        include_str!("../../templates/01_schema.sql.j2"),
    ),
    (
        "01b_distribute.sql",
        include_str!("../../templates/01b_distribute.sql.j2"),
    ),
    (
        "02_audit.sql",
        include_str!("../../templates/02_audit.sql.j2"),
    ),
    (
        "02_audit_functions.sql.j2",
        include_str!("../../templates/02_audit_functions.sql.j2"),
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
    // A statement shown but not run: every line commented out.
    env.add_filter("commented", |s: String| {
        s.lines()
            .map(|l| format!("-- {l}"))
            .collect::<Vec<_>>()
            .join("\n")
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
    // How much of a date a format reads (ISO 8601, no format: a day).
    env.add_filter("date_precision", |f: Option<String>| {
        quote_literal(
            f.and_then(|f| DateFormat::parse(&f).ok())
                .map_or("day", |f| f.precision()),
        )
    });
    env.add_filter("date_iso", |f: String| {
        DateFormat::parse(&f)
            .map(|f| quote_literal(&f.iso_replacement()))
            .unwrap_or_default()
    });
    // The shapes of text the casts accept, as SQL literals: the evaluator matches the same
    // patterns (`cast::patterns`).
    let patterns: std::collections::BTreeMap<String, String> = crate::cast::patterns::ALL
        .iter()
        .map(|(name, p)| {
            (
                name.to_string(),
                crate::cast::patterns::sql_literal(p, 90, "        "),
            )
        })
        .collect();
    env.add_global("patterns", minijinja::Value::from(patterns));
    for (name, text) in TEMPLATES {
        env.add_template(name, text)
            .map_err(|e| Error::Template(format!("{name}: {e:#}")))?;
    }
    Ok(env)
}

/// The script of a plan distributed by user_id (`target.layout.distribute_by`).
pub const DISTRIBUTE: &str = "01b_distribute.sql";

/// Renders every file of the plan: name -> SQL text.
pub fn render(plan: &Plan) -> Result<Files, Error> {
    let env = environment()?;
    let ctx = template_context(plan, &rendered_columns(&env, plan)?);
    let mut files = Files::new();
    // Only a plan distributed by user_id has a script that distributes its tables.
    let distributed = plan.layout == crate::ir::Layout::Distributed;
    for (name, _) in TEMPLATES
        .iter()
        .filter(|(n, _)| n.ends_with(".sql"))
        .filter(|(n, _)| distributed || *n != DISTRIBUTE)
    {
        let sql = render_one(&env, name, &ctx)?;
        files.insert((*name).to_string(), wrap::fold(&sql, wrap::WIDTH));
    }
    Ok(files)
}

/// The plan compiled: its files, and the same SQL in the parts the executor runs.
pub fn compile(plan: &Plan) -> Result<crate::compiled::Compiled, Error> {
    Ok(crate::compiled::Compiled::new(render(plan)?).with_plan(plan))
}

/// A Markdown summary of the plan for a pull request: mapping tables, an ER diagram (Mermaid) and
/// risk notes.
pub fn render_summary(plan: &Plan) -> Result<String, Error> {
    let env = environment()?;
    render_one(
        &env,
        "summary.md",
        &template_context(plan, &rendered_columns(&env, plan)?),
    )
}

/// The conversion `03_forward.sql` applies to a value of a column of type `ty`, as one SQL
/// expression over `value` (jsonb) and `json_type` (its `jsonb_typeof`), in the form that gives
/// NULL where the forward script raises (the form a parsed companion column uses): what the
/// cast agreement test runs against `cast::convert`.
pub fn cast_expression(
    audit_schema: &str,
    ty: crate::ir::SqlType,
    value: &str,
    json_type: &str,
) -> Result<String, Error> {
    let env = environment()?;
    let source = "{% import \"macros.sql.j2\" as m %}{{ m.cast(A, ty, v, t, \"NULL\", true) }}";
    env.render_str(
        source,
        minijinja::context! { A => quote_ident(audit_schema), ty => ty.sql(), v => value, t => json_type },
    )
    .map_err(|e| Error::Template(format!("the cast of {}: {e:#}", ty.sql())))
}

/// What the round trip gives back for a value of column `c` ([`rendered_expression`]), as one SQL
/// expression over `value` (jsonb) and `json_type`: what the agreement test of JSON text runs
/// against the evaluator.
pub fn rendering_expression(
    audit_schema: &str,
    c: &crate::ir::Column,
    value: &str,
    json_type: &str,
) -> Result<String, Error> {
    rendered_expression(&environment()?, audit_schema, c, value, json_type)
}

/// [`rendered_expression`] of every `keep_original` column of the plan.
fn rendered_columns(env: &Environment<'static>, plan: &Plan) -> Result<context::Rendered, Error> {
    let mut out = context::Rendered::new();
    for e in &plan.entities {
        for (i, c) in e
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.keep_original)
        {
            let sql = rendered_expression(
                env,
                &plan.audit_schema,
                c,
                &format!("x.v{i}"),
                &format!("x.t{i}"),
            )?;
            out.insert((e.name.clone(), i), sql);
        }
    }
    Ok(out)
}

/// What the reconstruction gives back for column `c` read from `value` (jsonb) and `json_type`,
/// as jsonb: a Unix time as the integer it was written as, JSON text as jsonb writes it, anything
/// else `to_jsonb` of the converted value (NULL where it does not convert). `keep_original` keeps
/// in `extra` only what this does not give back.
pub(crate) fn rendered_expression(
    env: &Environment<'static>,
    audit_schema: &str,
    c: &crate::ir::Column,
    value: &str,
    json_type: &str,
) -> Result<String, Error> {
    let source = match c.format {
        Some(crate::ir::Format::EpochS | crate::ir::Format::EpochMs) => {
            return Ok(format!(
                "CASE WHEN {json_type} = 'number' AND {value} #>> '{{}}' ~ {} THEN {value} END",
                quote_literal(crate::cast::patterns::INTEGER_NUMBER)
            ));
        }
        Some(crate::ir::Format::Json) => {
            "{% import \"macros.sql.j2\" as m %}to_jsonb(({{ m.json_text(A, v, t, \"NULL\", true) }})::text)"
        }
        Some(crate::ir::Format::Date(_)) => {
            "{% import \"macros.sql.j2\" as m %}to_jsonb({{ m.date_format(A, c, v, t, \"NULL\", true) }})"
        }
        None => {
            "{% import \"macros.sql.j2\" as m %}to_jsonb({{ m.cast(A, c.type, v, t, \"NULL\", true) }})"
        }
    };
    env.render_str(
        source,
        minijinja::context! { A => quote_ident(audit_schema), c => context::to_template(&serde_json::to_value(c).expect("IR serializes")), v => value, t => json_type },
    )
    .map_err(|e| Error::Template(format!("the rendering of {}: {e:#}", c.name)))
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
