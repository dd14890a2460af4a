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
    pub mappings: Vec<SourceFile<MappingSpec>>,
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

/// Reads and checks one file. `None` means it produced diagnostics and cannot be used further.
fn load_file<T: DeserializeOwned>(
    path: &Path,
    kind: SpecKind,
    diags: &mut Diagnostics,
    referenced_from: Option<(&Path, Option<Pos>)>,
) -> Option<SourceFile<T>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
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
            return None;
        }
    };
    diags.add_source(path, &text);
    let yaml: serde_yaml::Value = match serde_yaml::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let pos = e.location().map(|l| Pos {
                line: l.line(),
                column: l.column(),
            });
            // serde_yaml appends " at line X column Y"; the location is shown separately.
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            diags.push(
                Diagnostic::new("E-yaml", path, pos, format!("invalid YAML: {msg}"))
                    .with_hint("check indentation and quoting around this point"),
            );
            return None;
        }
    };
    let doc = yaml_to_json(yaml);
    let locator = Locator::new(&text);
    let errors = schema::check(kind, &doc, path, &locator);
    if !errors.is_empty() {
        errors.into_iter().for_each(|d| diags.push(d));
        return None;
    }
    match serde_json::from_value::<T>(doc) {
        Ok(spec) => Some(SourceFile {
            path: path.to_path_buf(),
            text,
            locator,
            spec,
        }),
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
    }
}

/// Loads a plan and every mapping it names (paths relative to the plan file).
pub fn load(plan_path: &Path) -> Result<LoadedSpec, Diagnostics> {
    let mut diags = Diagnostics::default();
    let Some(plan) = load_file::<PlanSpec>(plan_path, SpecKind::Plan, &mut diags, None) else {
        diags.sort();
        return Err(diags);
    };
    let base = plan_path.parent().unwrap_or(Path::new("."));
    let mut mappings = Vec::new();
    for (i, rel) in plan.spec.mappings.iter().enumerate() {
        let pos = plan.locator.pos(&format!("/mappings/{i}"));
        let path = normalize(&base.join(rel));
        if let Some(m) = load_file::<MappingSpec>(
            &path,
            SpecKind::Mapping,
            &mut diags,
            Some((&plan.path, pos)),
        ) {
            mappings.push(m);
        }
    }
    if !diags.is_empty() {
        diags.sort();
        return Err(diags);
    }
    Ok(LoadedSpec { plan, mappings })
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
