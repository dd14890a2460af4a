//! An element's references besides its parent, resolved as `03_forward.sql` resolves them: the
//! row a field's legacy id names among the rows made so far (or, for the entity's own elements,
//! among those its statement writes), else the reference's `on_missing` policy.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::candidates::Candidate;
use super::context::{Ctx, Kind, Severity, at, id_text};
use crate::ids::row_id;
use crate::ir::{Entity, OnMissingParent, Plan};
use crate::jsonpath::FieldPath;

/// What an element's references give its row.
pub(super) struct Resolved {
    /// Each reference's column and value (a row id, or NULL).
    pub(super) columns: Vec<(String, Value)>,
    /// Values no column can give back, kept in `extra`: a reference that names no row, a null.
    pub(super) kept: Vec<(FieldPath, Value)>,
}

/// The element's references, or `None` when one of them skips the element.
pub(super) fn resolve(
    plan: &Plan,
    e: &Entity,
    c: &Candidate,
    created: &HashMap<&str, HashSet<String>>,
    cx: &mut Ctx,
) -> Option<Resolved> {
    let mut out = Resolved {
        columns: Vec::new(),
        kept: Vec::new(),
    };
    // The target each field names: of a `one_of`, the first entity holding the id.
    let holds = |r: &crate::ir::Reference, id: &String| {
        created
            .get(r.entity.as_str())
            .is_some_and(|rows| rows.contains(id))
    };
    for (i, r) in e.references.iter().enumerate() {
        let raw = at(c.element.value, &r.field);
        let id = id_text(raw);
        let earlier = r.group.iter().take_while(|&&j| j != i);
        if id
            .as_ref()
            .is_some_and(|id| earlier.clone().any(|&j| holds(&e.references[j], id)))
        {
            out.columns.push((r.column.clone(), Value::Null));
            continue;
        }
        let found = id.filter(|id| holds(r, id));
        let Some(id) = found else {
            out.columns.push((r.column.clone(), Value::Null));
            // The field's policy speaks once, after its last target.
            if r.group.last() != Some(&i) {
                continue;
            }
            let Some(raw) = raw else { continue };
            out.kept.push((r.field.clone(), raw.clone()));
            if raw.is_null() {
                continue;
            }
            let (severity, what) = match r.on_missing {
                OnMissingParent::Error => (Severity::Abort, "the batch fails (on_missing: error)"),
                OnMissingParent::Null if e.scalar => (
                    Severity::Note,
                    "the column is NULL, the id kept in the value column (on_missing: null)",
                ),
                OnMissingParent::Null if e.extra.is_none() => {
                    (Severity::Note, "the column is NULL (on_missing: null)")
                }
                OnMissingParent::Null => (
                    Severity::Note,
                    "the column is NULL, the value kept in extra (on_missing: null)",
                ),
                OnMissingParent::Skip => (
                    Severity::Note,
                    "the element is not migrated (on_missing: skip)",
                ),
            };
            cx.find(
                severity,
                Kind::MissingReference,
                &e.name,
                Some(&c.legacy),
                &if r.field.keys().is_empty() {
                    e.path.to_string()
                } else {
                    r.field.to_string()
                },
                Some(raw),
                format!(
                    "referenced {} not found; {what}",
                    r.group
                        .iter()
                        .map(|&j| e.references[j].entity.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            );
            if r.on_missing == OnMissingParent::Skip {
                return None;
            }
            continue;
        };
        let target = row_id(&plan.namespace, &r.entity, cx.user, &id);
        out.columns
            .push((r.column.clone(), Value::String(target.to_string())));
    }
    Some(out)
}
