//! The mapping evaluated in Rust, for one user's document, by the same rules as the compiled SQL
//! (`03_forward.sql`): the same elements, legacy ids, duplicate and orphan policies, conversions,
//! defaults, `extra` and ids. Tests hold the two equal row by row. Its consumers: `preview`, the
//! COPY write path and the round trip of `verify`.
//!
//! The steps, each a module that only reads those before it: `context` (rows, findings, reading
//! a path), `object` (paths inside an object), `elements` (an entity's elements in a document),
//! `candidates` (their legacy ids and duplicates), `references` (what a reference names), `row`
//! (one element made a row).

mod candidates;
mod context;
mod elements;
mod object;
mod references;
mod row;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::ir::{Entity, NotADocument, Plan};
use candidates::{Candidate, candidates, report_duplicates};
pub use context::Kind;
pub(crate) use context::id_text;
use context::{Ctx, json_type};
pub use context::{Finding, Row, Severity};
use object::leaf_paths;
pub use object::{remove_path, set_path};

/// Rows and findings for one user's document.
pub fn evaluate(plan: &Plan, user: &str, doc: &Value, findings: &mut Vec<Finding>) -> Vec<Row> {
    let mut cx = Ctx {
        user,
        doc,
        findings,
    };
    if !document_is_usable(plan, user, doc, &mut cx) {
        return Vec::new();
    }
    unmapped_document_keys(plan, doc, &mut cx);
    let mut created: HashMap<&str, HashSet<String>> = HashMap::new();
    let mut rows = Vec::new();
    for e in &plan.entities {
        let candidates = candidates(doc, e, &mut cx);
        report_duplicates(e, &candidates, &mut cx);
        if e.references.iter().any(|r| r.to_self) {
            // A reference to the entity's own elements names any its statement writes.
            let own = will_be_written(e, &candidates, &created);
            created.insert(e.name.as_str(), own);
        }
        // A reference to an entity nested in this one names its elements in the document, which
        // are written later (the SQL's child_rows); what they say is that entity's to report.
        let ahead: Vec<&str> = e
            .references
            .iter()
            .filter(|r| r.to_child)
            .map(|r| r.entity.as_str())
            .collect();
        for name in &ahead {
            let Some(target) = plan.entities.iter().find(|t| t.name == *name) else {
                continue;
            };
            let mut silent = Vec::new();
            let mut quiet = Ctx {
                user,
                doc,
                findings: &mut silent,
            };
            let ids = self::candidates::candidates(doc, target, &mut quiet)
                .into_iter()
                .map(|c| c.legacy)
                .collect();
            created.insert(name, ids);
        }
        let mut kept: HashSet<String> = HashSet::new();
        for c in candidates {
            if !kept.insert(c.key.clone()) {
                continue; // keep_first keeps the earliest; error was reported above
            }
            if let Some(row) = row::build(plan, e, &c, &created, &mut cx) {
                created.entry(e.name.as_str()).or_default().insert(c.key);
                rows.push(row);
            }
        }
        for name in ahead {
            created.remove(name);
        }
    }
    rows
}

/// The keys of the rows an entity's statement writes: the first of each key, unless a parent
/// that is missing skips it (the SQL's `x`, as its self-references see it).
fn will_be_written(
    e: &Entity,
    candidates: &[Candidate],
    created: &HashMap<&str, HashSet<String>>,
) -> HashSet<String> {
    candidates
        .iter()
        .filter(|c| match &e.parent {
            Some(p) if p.on_missing == crate::ir::OnMissingParent::Skip => {
                c.parent_legacy.as_ref().is_some_and(|pl| {
                    created
                        .get(p.entity.as_str())
                        .is_some_and(|rows| rows.contains(pl))
                })
            }
            _ => true,
        })
        .map(|c| c.key.clone())
        .collect()
}

/// A user id too long for an index, or a document that is not an object, gives no rows.
fn document_is_usable(plan: &Plan, user: &str, doc: &Value, cx: &mut Ctx) -> bool {
    if user.len() > crate::ids::MAX_ID_BYTES {
        cx.find(
            Severity::Abort,
            Kind::IdTooLong,
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
        return false;
    }
    if doc.is_object() {
        return true;
    }
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
        Kind::NotADocument,
        "(document)",
        None,
        "$",
        Some(doc),
        format!(
            "the document is {}, not a JSON object: {outcome}",
            json_type(doc)
        ),
    );
    false
}

/// Document keys outside every entity's array are not migrated at all (unless a root entity
/// reads the root, which reports its own keys).
fn unmapped_document_keys(plan: &Plan, doc: &Value, cx: &mut Ctx) {
    let Value::Object(top) = doc else { return };
    if plan.entities.iter().any(Entity::is_root) {
        return;
    }
    let mut rest = top.clone();
    for e in plan.entities.iter().filter(|e| !e.path.is_nested()) {
        remove_path(&mut rest, e.path.levels()[0].keys());
    }
    let mut paths = Vec::new();
    leaf_paths(&rest, "", &mut paths);
    for p in paths {
        cx.find(
            Severity::Note,
            Kind::UnmappedDocumentKey,
            "",
            None,
            &p,
            None,
            "no entity reads it: it is not migrated (verify --roundtrip reports it)".into(),
        );
    }
}
