//! One array of many kinds (`source.where`): entities sharing a path, each taking the elements of
//! its kinds, and what becomes of elements of no named kind.

use std::collections::BTreeMap;

use serde_json::Value;

use super::draft::{Draft, path_diag};
use crate::diagnostic::Diagnostics;
use crate::ir::{Others, Rest, Route};
use crate::jsonpath::{self, ArrayPath, FieldPath};
use crate::spec::MappingSpec;
use crate::spec::load::SourceFile;

/// A mapping's own `where`: its field parsed, its kinds as text; `None` without one or when it
/// cannot be used.
pub(super) fn check_own(
    file: &SourceFile<MappingSpec>,
    diags: &mut Diagnostics,
) -> Option<(FieldPath, Vec<String>)> {
    let m = &file.spec;
    let w = m.source.route.as_ref()?;
    let shape = if m.source.single {
        Some("a single object")
    } else if m.value.is_some() {
        Some("scalar elements, which have no fields")
    } else if m.source.path == "$" {
        Some("the document root")
    } else if m.source.recursive.is_some() {
        Some("a tree")
    } else {
        None
    };
    if let Some(shape) = shape {
        diags.push(
            file.at_key(
                "E-where",
                "/source/where",
                format!("`where` routes the elements of an array or keyed object, not {shape}"),
            )
            .with_hint("remove `where`"),
        );
        return None;
    }
    if w.values.is_empty() && w.others != Some(Others::Take) {
        diags.push(
            file.at_key(
                "E-where",
                "/source/where",
                "this entity takes no kind of element",
            )
            .with_hint(
                "list its kinds in `in: [...]`, or take every other kind with `others: take`",
            ),
        );
    }
    let mut values = Vec::new();
    for (i, v) in w.values.iter().enumerate() {
        match v {
            Value::String(s) => values.push(s.clone()),
            Value::Number(n) => values.push(n.to_string()),
            Value::Bool(b) => values.push(b.to_string()),
            _ => diags.push(
                file.at(
                    "E-where",
                    &format!("/source/where/in/{i}"),
                    "a kind is a string, a number or a boolean",
                )
                .with_hint("write the value the field holds, e.g. `commentCard`"),
            ),
        }
    }
    match jsonpath::parse_field(&w.field) {
        Ok(f) => Some((f, values)),
        Err(e) => {
            diags.push(path_diag(file, "/source/where/field", &w.field, e));
            None
        }
    }
}

/// Entities sharing a path route it together: all by one field, no kind taken twice, at most one
/// of them saying what becomes of the other kinds.
pub(super) fn check_groups(drafts: &[Draft], diags: &mut Diagnostics) {
    for group in groups(drafts).values() {
        let first = &drafts[group[0]];
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        let mut others: Option<&str> = None;
        for &i in group {
            let d = &drafts[i];
            let (Some((field, values)), Some(w)) = (&d.route, &d.file.spec.source.route) else {
                continue;
            };
            if Some(field) != first.route.as_ref().map(|r| &r.0) {
                diags.push(
                    d.file
                        .at(
                            "E-where",
                            "/source/where/field",
                            format!(
                                "entities reading `{}` route it by different fields",
                                d.file.spec.source.path
                            ),
                        )
                        .with_hint(format!(
                            "route by the same field as `{}`",
                            first.file.spec.entity
                        )),
                );
            }
            for v in values {
                if let Some(other) = seen.insert(v, &d.file.spec.entity) {
                    diags.push(
                        d.file
                            .at_key(
                                "E-where",
                                "/source/where/in",
                                format!("kind `{v}` is also taken by `{other}`"),
                            )
                            .with_hint("each kind goes to one entity"),
                    );
                }
            }
            if w.others.is_some() {
                if let Some(other) = others {
                    diags.push(
                        d.file
                            .at_key(
                                "E-where",
                                "/source/where/others",
                                format!("`{other}` already says what becomes of the other kinds"),
                            )
                            .with_hint("keep `others` on one entity of the array"),
                    );
                }
                others = Some(&d.file.spec.entity);
            }
        }
    }
}

/// The entities of each routed path, in the plan's order.
fn groups(drafts: &[Draft]) -> BTreeMap<String, Vec<usize>> {
    let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, d) in drafts.iter().enumerate() {
        if let (Some(p), Some(_)) = (&d.path, &d.route) {
            out.entry(p.to_string()).or_default().push(i);
        }
    }
    out
}

/// Each entity's route: its kinds, the others' kinds, and what it does with the rest.
pub(super) fn resolve(drafts: &[Draft], i: usize) -> Option<Route> {
    let d = &drafts[i];
    let (field, values) = d.route.clone()?;
    let path = d.path.as_ref().map(ArrayPath::to_string);
    let members: Vec<usize> = (0..drafts.len())
        .filter(|&j| {
            drafts[j].route.is_some() && drafts[j].path.as_ref().map(ArrayPath::to_string) == path
        })
        .collect();
    let others = |j: usize| {
        drafts[j]
            .file
            .spec
            .source
            .route
            .as_ref()
            .and_then(|w| w.others)
    };
    let taken_by_others = members
        .iter()
        .filter(|&&j| j != i)
        .flat_map(|&j| drafts[j].route.iter().flat_map(|r| r.1.clone()))
        .collect();
    let rest = match others(i) {
        Some(Others::Take) => Rest::Take,
        Some(Others::Drop) => Rest::Drop,
        _ if members.iter().all(|&j| others(j).is_none()) && members.first() == Some(&i) => {
            Rest::Error
        }
        _ => Rest::Leave,
    };
    Some(Route {
        field,
        values,
        taken_by_others,
        rest,
    })
}
