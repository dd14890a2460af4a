//! The JSON Schema of the spec format (`schema/pgshred.schema.json`), shipped inside the binary.
//!
//! `pgshred schema` prints it for editors; loading checks every plan and mapping file against it
//! before any semantic check runs, and turns each violation into a located [`Diagnostic`].

use std::path::Path;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::{Value, json};

use super::locate::{Locator, escape_token};
use crate::diagnostic::Diagnostic;

/// The schema text exactly as committed.
pub const SCHEMA_TEXT: &str = include_str!("../../schema/pgshred.schema.json");

/// Which of the two file kinds a document is checked as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecKind {
    Plan,
    Mapping,
}

impl SpecKind {
    fn def(self) -> &'static str {
        match self {
            SpecKind::Plan => "plan",
            SpecKind::Mapping => "mapping",
        }
    }
}

fn root() -> &'static Value {
    static ROOT: OnceLock<Value> = OnceLock::new();
    ROOT.get_or_init(|| {
        serde_json::from_str(SCHEMA_TEXT).expect("the shipped schema is valid JSON")
    })
}

fn validator(kind: SpecKind) -> &'static jsonschema::Validator {
    static PLAN: OnceLock<jsonschema::Validator> = OnceLock::new();
    static MAPPING: OnceLock<jsonschema::Validator> = OnceLock::new();
    let cell = match kind {
        SpecKind::Plan => &PLAN,
        SpecKind::Mapping => &MAPPING,
    };
    cell.get_or_init(|| {
        // Validate against one definition directly, so errors speak of a plan or a mapping rather
        // than of the if/then/else at the top of the schema.
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": format!("#/$defs/{}", kind.def()),
            "$defs": root()["$defs"].clone(),
        });
        jsonschema::draft202012::options()
            .build(&schema)
            .expect("the shipped schema compiles")
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn type_name(kind: &TypeKind) -> String {
    let name = |t: jsonschema::JsonType| match t.to_string().as_str() {
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        other => format!(
            "{} {other}",
            if other.starts_with(['a', 'i']) {
                "an"
            } else {
                "a"
            }
        ),
    };
    match kind {
        TypeKind::Single(t) => name(*t),
        TypeKind::Multiple(ts) => ts.iter().map(name).collect::<Vec<_>>().join(" or "),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

/// Levenshtein distance, for "did you mean" hints on misspelt keys and names.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate within two edits, if any.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| c)
}

/// The `properties` names of the schema object that holds the failing keyword.
fn allowed_keys(schema_path: &str) -> Vec<String> {
    let parent = schema_path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    root()
        .pointer(&format!("{parent}/properties"))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn description_at(schema_path: &str) -> Option<String> {
    let parent = schema_path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    let node = root().pointer(parent)?;
    let node = match node.get("$ref").and_then(Value::as_str) {
        Some(r) => root().pointer(r.trim_start_matches('#'))?,
        None => node,
    };
    node.get("description")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Adds the schema's description of the failing property as the hint, when it has one.
fn with_description(d: Diagnostic, schema_path: &str) -> Diagnostic {
    match description_at(schema_path) {
        Some(desc) => d.with_hint(desc),
        None => d,
    }
}

/// Checks `doc` against the schema; every violation becomes a located diagnostic.
pub fn check(kind: SpecKind, doc: &Value, file: &Path, loc: &Locator) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for err in validator(kind).iter_errors(doc) {
        let pointer = err.instance_path().as_str().to_string();
        let schema_path = err.schema_path().as_str().to_string();
        let instance = err.instance().clone().into_owned();
        let d = match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                out.extend(unknown_keys(unexpected, &pointer, &schema_path, file, loc));
                continue;
            }
            ValidationErrorKind::Required { property } => missing_key(
                property.as_str().unwrap_or_default(),
                &pointer,
                &schema_path,
                file,
                loc,
            ),
            ValidationErrorKind::Enum { options } => {
                not_an_option(options, &instance, &pointer, file, loc)
            }
            ValidationErrorKind::Type { kind } => with_description(
                Diagnostic::new(
                    "E-bad-type",
                    file,
                    loc.pos(&pointer),
                    format!(
                        "expected {}, found {}",
                        type_name(kind),
                        json_type(&instance)
                    ),
                ),
                &schema_path,
            ),
            ValidationErrorKind::Pattern { .. } => {
                let mut d = Diagnostic::new(
                    "E-bad-value",
                    file,
                    loc.pos(&pointer),
                    format!("{} is not valid here", show(&instance)),
                );
                if let Some(desc) = description_at(&schema_path) {
                    d = d.with_hint(desc);
                }
                d
            }
            ValidationErrorKind::AnyOf { .. } => {
                let mut d = Diagnostic::new(
                    "E-bad-value",
                    file,
                    loc.pos(&pointer),
                    format!("{} is not valid here", show(&instance)),
                );
                if let Some(desc) = description_at(&format!("{schema_path}/x")) {
                    d = d.with_hint(desc);
                }
                d
            }
            _ => with_description(
                Diagnostic::new("E-schema", file, loc.pos(&pointer), err.to_string()),
                &schema_path,
            ),
        };
        out.push(d);
    }
    out
}

/// One diagnostic per key the schema does not allow here, with the nearest allowed key.
fn unknown_keys(
    unexpected: &[String],
    pointer: &str,
    schema_path: &str,
    file: &Path,
    loc: &Locator,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let allowed = allowed_keys(schema_path);
    for key in unexpected {
        let at = format!("{pointer}/{}", escape_token(key));
        let mut d = Diagnostic::new(
            "E-unknown-key",
            file,
            loc.key_pos(&at),
            format!("unknown key `{key}`"),
        );
        d = match suggest(key, allowed.iter().map(String::as_str)) {
            Some(s) => d.with_hint(format!("did you mean `{s}`?")),
            None => d.with_hint(format!("allowed keys here: {}", allowed.join(", "))),
        };
        out.push(d);
    }
    out
}

/// A required key is missing: located at the key introducing the incomplete mapping, where it
/// gets fixed, with the key's description.
fn missing_key(
    name: &str,
    pointer: &str,
    schema_path: &str,
    file: &Path,
    loc: &Locator,
) -> Diagnostic {
    // Point at the key introducing the incomplete mapping: that is where it gets fixed.
    let mut d = Diagnostic::new(
        "E-missing-key",
        file,
        loc.key_pos(pointer),
        format!("missing required key `{name}`"),
    );
    if let Some(desc) = root()
        .pointer(&format!(
            "{}/properties/{}/description",
            schema_path.rsplit_once('/').map(|p| p.0).unwrap_or(""),
            name
        ))
        .and_then(Value::as_str)
    {
        d = d.with_hint(format!("`{name}`: {desc}"));
    }
    d
}

/// A value that is not one of the schema's options, with the nearest option.
fn not_an_option(
    options: &Value,
    instance: &Value,
    pointer: &str,
    file: &Path,
    loc: &Locator,
) -> Diagnostic {
    let opts: Vec<String> = options
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| {
                    o.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| o.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut d = Diagnostic::new(
        "E-bad-value",
        file,
        loc.pos(pointer),
        format!("{} is not one of: {}", show(instance), opts.join(", ")),
    );
    if let Some(s) = instance
        .as_str()
        .and_then(|v| suggest(v, opts.iter().map(String::as_str)))
    {
        d = d.with_hint(format!("did you mean `{s}`?"));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_compiles_for_both_kinds() {
        let _ = validator(SpecKind::Plan);
        let _ = validator(SpecKind::Mapping);
    }

    #[test]
    fn suggests_close_words() {
        assert_eq!(suggest("colums", ["columns", "drop"]), Some("columns"));
        assert_eq!(suggest("zzzzzz", ["columns", "drop"]), None);
    }
}
