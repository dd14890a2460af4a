//! Reads plan and mapping files: YAML text -> JSON value -> schema check -> raw spec types.
//!
//! This is the only module that touches serde_yaml, so the YAML library can be swapped in one place.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::locate::Locator;
use super::schema::{self, SpecKind};
use super::{MappingSpec, PlanSpec};
use crate::diagnostic::{Diagnostic, Diagnostics, Pos};

/// One parsed file, kept with what is needed to point back into it.
#[derive(Debug)]
pub struct SourceFile<T> {
    pub path: PathBuf,
    pub text: String,
    pub locator: Locator,
    pub spec: T,
}

impl<T> SourceFile<T> {
    /// A diagnostic about the value at `pointer` in this file.
    pub fn at(&self, code: &'static str, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, &self.path, self.locator.pos(pointer), message)
    }

    /// A diagnostic about the key introducing `pointer` (e.g. a whole mapping entry).
    pub fn at_key(
        &self,
        code: &'static str,
        pointer: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(code, &self.path, self.locator.key_pos(pointer), message)
    }
}

/// A plan with all its mapping files, parsed and schema-checked.
#[derive(Debug)]
pub struct LoadedSpec {
    pub plan: SourceFile<PlanSpec>,
    /// The mapping files that could be read into the spec types.
    pub mappings: Vec<SourceFile<MappingSpec>>,
    /// Entities of mapping files too broken to use, so checks of other files do not also call
    /// them unknown.
    pub unusable_entities: Vec<String>,
    /// Problems found while loading (syntax, schema). Validation adds its own.
    pub diagnostics: Diagnostics,
}

/// YAML to JSON by hand: serde_json would refuse non-string keys, and YAML tags carry nothing here.
fn yaml_to_json(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

/// What loading one file gave: the usable spec, if its shape allowed one, and the raw document.
struct Loaded<T> {
    file: Option<SourceFile<T>>,
    doc: Option<Value>,
    locator: Option<Locator>,
}

/// Reads and checks one file. Schema violations are reported, but when the document still has the
/// shape of the spec type it is returned too, so semantic checks can report their findings in the
/// same run.
fn load_file<T: DeserializeOwned>(
    path: &Path,
    kind: SpecKind,
    diags: &mut Diagnostics,
    referenced_from: Option<(&Path, Option<Pos>)>,
) -> Loaded<T> {
    let nothing = Loaded {
        file: None,
        doc: None,
        locator: None,
    };
    let Some(text) = read(path, kind, diags, referenced_from) else {
        return nothing;
    };
    diags.add_source(path, &text);
    let Some(yaml) = parse_yaml(path, &text, diags) else {
        return nothing;
    };
    let doc = yaml_to_json(yaml);
    if doc.is_null() {
        diags.push(empty_file(path, kind));
        return nothing;
    }
    let locator = Locator::new(&text);
    let errors = schema::check(kind, &doc, path, &locator);
    let schema_ok = errors.is_empty();
    errors.into_iter().for_each(|d| diags.push(d));
    let file = match serde_json::from_value::<T>(doc.clone()) {
        Ok(spec) => Some(SourceFile {
            path: path.to_path_buf(),
            text,
            locator: locator.clone(),
            spec,
        }),
        Err(_) if !schema_ok => None,
        Err(e) => {
            // The schema and the serde types describe the same format; reaching this is a bug in
            // pgshred, but it is still reported as a diagnostic rather than a panic.
            diags.push(Diagnostic::new(
                "E-schema",
                path,
                None,
                format!("spec does not match the expected shape: {e}"),
            ));
            None
        }
    };
    Loaded {
        file,
        doc: Some(doc),
        locator: Some(locator),
    }
}

/// The file's text; a file that cannot be read is reported where it was referenced from.
fn read(
    path: &Path,
    kind: SpecKind,
    diags: &mut Diagnostics,
    referenced_from: Option<(&Path, Option<Pos>)>,
) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) => {
            let what = match kind {
                SpecKind::Plan => "plan",
                SpecKind::Mapping => "mapping",
            };
            let d = match referenced_from {
                Some((from, pos)) => Diagnostic::new(
                    "E-file",
                    from,
                    pos,
                    format!("cannot read {what} file {}: {e}", path.display()),
                )
                .with_hint("mapping paths are relative to the plan file"),
                None => Diagnostic::new(
                    "E-file",
                    path,
                    None,
                    format!("cannot read {what} file: {e}"),
                ),
            };
            diags.push(d);
            None
        }
    }
}

/// The YAML of a file, or its syntax error located.
fn parse_yaml(path: &Path, text: &str, diags: &mut Diagnostics) -> Option<serde_yaml::Value> {
    if let Some(pos) = super::depth::too_deep(text) {
        diags.push(
            Diagnostic::new(
                "E-yaml",
                path,
                Some(pos),
                format!(
                    "nested more than {} levels deep here; not read further",
                    super::depth::MAX_DEPTH
                ),
            )
            .with_hint("a spec nests a few levels; is this the file you meant?"),
        );
        return None;
    }
    match serde_yaml::from_str(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let pos = e.location().map_or_else(
                || Locator::problem_pos(text),
                |l| Pos {
                    line: l.line(),
                    column: l.column(),
                },
            );
            // serde_yaml appends " at line X column Y"; the location is shown separately.
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            let hint = if msg.contains("more than one document") {
                "a spec file holds one YAML document: remove the `---` separator here"
            } else {
                "check indentation and quoting around this point"
            };
            diags.push(
                Diagnostic::new("E-yaml", path, Some(pos), format!("invalid YAML: {msg}"))
                    .with_hint(hint),
            );
            None
        }
    }
}

/// A file with no YAML content, and what it needs.
fn empty_file(path: &Path, kind: SpecKind) -> Diagnostic {
    let needs = match kind {
        SpecKind::Plan => "plan, source, target, ids and mappings",
        SpecKind::Mapping => "entity, table and source",
    };
    Diagnostic::new(
        "E-empty",
        path,
        Some(Pos { line: 1, column: 1 }),
        "the file holds no YAML content",
    )
    .with_hint(format!(
        "it needs at least {needs}; `pgshred schema` describes the format"
    ))
}

/// Loads a plan and every mapping it names (paths relative to the plan file). Problems found while
/// loading are in `diagnostics`; an `Err` means not even the plan could be read.
pub fn load(plan_path: &Path) -> Result<LoadedSpec, Diagnostics> {
    let mut diags = Diagnostics::default();
    let loaded = load_file::<PlanSpec>(plan_path, SpecKind::Plan, &mut diags, None);
    // Even a plan with schema errors names its mapping files; load them to report their problems.
    let mapping_paths: Vec<String> = match (&loaded.file, &loaded.doc) {
        (Some(f), _) => f.spec.mappings.clone(),
        (None, Some(doc)) => doc
            .get("mappings")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    let base = plan_path.parent().unwrap_or(Path::new("."));
    let mut mappings = Vec::new();
    let mut unusable_entities = Vec::new();
    for (i, rel) in mapping_paths.iter().enumerate() {
        let pos = loaded
            .locator
            .as_ref()
            .and_then(|l| l.pos(&format!("/mappings/{i}")));
        let path = normalize(&base.join(rel));
        let m =
            load_file::<MappingSpec>(&path, SpecKind::Mapping, &mut diags, Some((plan_path, pos)));
        match m.file {
            Some(f) => mappings.push(f),
            None => unusable_entities.extend(
                m.doc
                    .as_ref()
                    .and_then(|d| d.get("entity"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
            ),
        }
    }
    match loaded.file {
        Some(plan) => Ok(LoadedSpec {
            plan,
            mappings,
            unusable_entities,
            diagnostics: diags,
        }),
        None => {
            diags.sort();
            Err(diags)
        }
    }
}

/// Folds `a/../b` so paths in messages read the way the user would type them.
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    #[test]
    fn normalizes_relative_mapping_paths() {
        assert_eq!(
            normalize(Path::new("plans/../mappings/orgs.yaml")),
            Path::new("mappings/orgs.yaml")
        );
        assert_eq!(
            normalize(Path::new("../x/./y.yaml")),
            Path::new("../x/y.yaml")
        );
    }
}
