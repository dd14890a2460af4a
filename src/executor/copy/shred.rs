//! A batch's documents evaluated in Rust and encoded for COPY: by the evaluator `preview` uses,
//! held equal to `03_forward.sql` row for row, on every core.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::CopyError;
use super::documents::Document;
use super::encode::{self, Kind};
use crate::ir::Plan;
use crate::preview::eval::{self, Severity};

/// What a batch's documents give, encoded as each is evaluated (so only one document's rows are
/// held at a time, per core): per entity, in the plan's order, the COPY tuples of its rows and,
/// per user, the (legacy id, id) pairs of the audit.
pub(crate) struct Shred {
    pub(super) tuples: Vec<Vec<u8>>,
    pub(super) audit: Vec<BTreeMap<String, Vec<(String, String)>>>,
}

impl Shred {
    fn new(n: usize) -> Shred {
        Shred {
            tuples: vec![Vec::new(); n],
            audit: vec![BTreeMap::new(); n],
        }
    }

    fn merge(&mut self, other: Shred) {
        for (mine, theirs) in self.tuples.iter_mut().zip(other.tuples) {
            mine.extend_from_slice(&theirs);
        }
        for (mine, theirs) in self.audit.iter_mut().zip(other.audit) {
            for (user, pairs) in theirs {
                mine.entry(user).or_default().extend(pairs);
            }
        }
    }
}

/// Threads each shredding uses; 0 until `share_cores` sets it: every core.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Shares the cores among `workers`: each worker's shredding (and its read-ahead's, which take
/// turns) uses its part, so that `--jobs N` does not start N times as many threads as cores.
pub(crate) fn share_cores(workers: usize) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    THREADS.store((cores / workers).max(1), Ordering::Relaxed);
}

/// Every document of the batch evaluated and encoded, on every core (the server waits
/// meanwhile); the first batch-stopping problem in document order, as the SQL path would raise it.
pub(super) fn shred_all(
    plan: &Plan,
    selected: &[bool],
    cols: &[Vec<(String, Kind)>],
    docs: &[Document],
) -> Result<Shred, CopyError> {
    let threads = match THREADS.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let chunk = docs.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Shred, CopyError>> = std::thread::scope(|s| {
        let handles: Vec<_> = docs
            .chunks(chunk)
            .map(|part| s.spawn(move || shred_part(plan, selected, cols, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the evaluator does not panic"))
            .collect()
    });
    let mut shred = Shred::new(plan.entities.len());
    for p in parts {
        shred.merge(p?);
    }
    Ok(shred)
}

fn shred_part(
    plan: &Plan,
    selected: &[bool],
    cols: &[Vec<(String, Kind)>],
    docs: &[Document],
) -> Result<Shred, CopyError> {
    let index: BTreeMap<&str, usize> = plan
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();
    let mut shred = Shred::new(plan.entities.len());
    for d in docs {
        let user = &d.user;
        let doc: Value = match &d.text {
            Some(text) => serde_json::from_str(text).map_err(|e| CopyError::Data {
                user: user.clone(),
                message: format!("the document as the server wrote it is not JSON: {e}"),
            })?,
            None => Value::Null,
        };
        let mut findings = Vec::new();
        let rows = eval::evaluate(plan, user, &doc, &mut findings);
        if let Some(f) = findings.iter().find(|f| f.severity == Severity::Abort) {
            return Err(refused(user, f));
        }
        for row in rows {
            let Some(&i) = index.get(row.entity.as_str()).filter(|&&i| selected[i]) else {
                continue;
            };
            encode::tuple_start(&mut shred.tuples[i], cols[i].len());
            for (name, kind) in &cols[i] {
                let v = row.values.get(name).unwrap_or(&Value::Null);
                encode::field(&mut shred.tuples[i], *kind, v).map_err(|m| CopyError::Data {
                    user: user.clone(),
                    message: format!("{}.{name}: {m}", row.table),
                })?;
            }
            let s = |k: &str| {
                row.values
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            shred.audit[i]
                .entry(user.clone())
                .or_default()
                .push((s("legacy_id"), s("id")));
        }
    }
    Ok(shred)
}

/// A finding that stops the batch, as `fail()` in `01_schema.sql` words it.
fn refused(user: &str, f: &eval::Finding) -> CopyError {
    let value = f.value.as_ref().map_or_else(
        || "missing".to_string(),
        |v| v.to_string().chars().take(200).collect(),
    );
    let hint = match f.kind {
        "cast" => "fix the value in the source document, or change the column type in the mapping",
        "missing_required" => {
            "add the value to the document, give the column a default, or make it optional in the mapping"
        }
        _ => "pgshred preview PLAN --input-file FILE names every problem of the documents",
    };
    // A legacy id twice is a fact about the ids, which the SQL path names so.
    let path = if f.kind == "duplicate_id" {
        "legacy id"
    } else {
        f.path.as_str()
    };
    CopyError::Document {
        message: format!(
            "pgshred: {} (user {}, entity {}, legacy id {}, path {path}, value {value})",
            f.message,
            crate::ids::shown_user(user),
            f.entity,
            f.legacy_id.as_deref().unwrap_or("?"),
        ),
        detail: serde_json::json!({
            "user_id": user, "entity": f.entity, "legacy_id": f.legacy_id,
            "path": path, "value": f.value, "problem": f.message,
        }),
        hint: hint.to_string(),
    }
}
