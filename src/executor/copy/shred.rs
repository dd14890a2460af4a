//! A batch's documents evaluated in Rust and encoded for COPY: by the evaluator `preview` uses,
//! held equal to `03_forward.sql` row for row, on every core.

use std::collections::BTreeMap;

use serde_json::Value;

use super::CopyError;
use super::documents::Document;
use super::encode::{self, Kind};
use crate::eval::{self, Severity};
use crate::ir::Plan;

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

/// The threads each of `workers` shredding may use: the cores shared among them (a worker's
/// read-ahead takes turns with it), so that `--jobs N` does not start N times as many threads as
/// cores.
pub(crate) fn threads_per_worker(workers: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / workers.max(1)).max(1)
}

/// Every document of the batch evaluated and encoded, on `threads` threads (the server waits
/// meanwhile); the first batch-stopping problem in document order, as the SQL path would raise it.
pub(super) fn shred_all(
    plan: &Plan,
    selected: &[bool],
    cols: &[Vec<(String, Kind)>],
    docs: &[Document],
    threads: usize,
) -> Result<Shred, CopyError> {
    let chunk = docs.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Shred, CopyError>> = std::thread::scope(|s| {
        let handles: Vec<_> = docs
            .chunks(chunk)
            .map(|part| s.spawn(move || shred_part(plan, selected, cols, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|panic| {
                    Err(CopyError::Data {
                        user: String::new(),
                        message: format!(
                            "encoding a batch for COPY failed ({}): a bug of pgshred; `--engine sql` writes the batch in the server",
                            panic_words(panic.as_ref())
                        ),
                    })
                })
            })
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
            Some(text) => crate::json::from_str(text).map_err(|e| CopyError::Data {
                user: user.clone(),
                message: format!("the document as the server wrote it is not JSON: {e}"),
            })?,
            None => Value::Null,
        };
        let mut findings = Vec::new();
        // A panic of the evaluator is a bug of pgshred: it fails the batch naming the user (whose
        // document `preview` can then show), instead of ending the process.
        let evaluated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut rows = eval::evaluate(plan, user, &doc, &mut findings);
            crate::failpoint::evaluator(&mut rows);
            rows
        }));
        let rows = evaluated.map_err(|panic| CopyError::Data {
            user: user.clone(),
            message: format!(
                "pgshred's evaluator failed on the document of user {} ({}): a bug of pgshred; \
                 `pgshred preview PLAN --user USER` shows the document's rows, and `--engine sql` \
                 writes it in the server",
                crate::ids::shown_user(user),
                panic_words(panic.as_ref())
            ),
        })?;
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

/// What a panic said, when it said it in words.
pub(super) fn panic_words(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// A finding that stops the batch, as `fail()` in `01_schema.sql` words it: the same message,
/// hint, path and value as the SQL path's, so the report and the quarantine read the same
/// whichever engine wrote the batch. (The evaluator's own words, which `preview` prints, add
/// what the policy does and what a type expects.)
fn refused(user: &str, f: &eval::Finding) -> CopyError {
    let words = sql_words(f);
    let error = crate::executor::failure::DataError {
        problem: words.message,
        user_id: user.to_string(),
        entity: f.entity.clone(),
        legacy_id: f.legacy_id.clone(),
        path: words.path.to_string(),
        value: words.value,
    };
    CopyError::Document {
        message: error.message(),
        detail: error.detail(),
        hint: words.hint.to_string(),
    }
}

/// What the SQL's `fail()` says of a finding.
struct SqlWords<'f> {
    message: String,
    path: &'f str,
    value: Option<Value>,
    hint: &'static str,
}

/// The message, path, value and hint the SQL path's functions of `01_schema.sql` give a finding
/// of each kind (`cast_failed`, `missing_required`, `duplicate_id`, ...).
fn sql_words(f: &eval::Finding) -> SqlWords<'_> {
    // The evaluator's message is the SQL's, then what the policy does.
    let head = f
        .message
        .split_once("; the batch fails")
        .or_else(|| f.message.split_once(": the batch fails"))
        .map_or(f.message.as_str(), |(m, _)| m);
    let mut w = SqlWords {
        message: head.to_string(),
        path: &f.path,
        value: f.value.clone(),
        hint: "pgshred preview PLAN --input-file FILE names every problem of the documents",
    };
    match f.kind {
        eval::Kind::Cast => {
            w.message = head
                .split_once(": expected")
                .map_or(head, |(m, _)| m)
                .into();
            w.hint =
                "fix the value in the source document, or change the column type in the mapping";
        }
        eval::Kind::MissingRequired => {
            w.value = None;
            w.hint = "add the value to the document, give the column a default, or make it optional in the mapping";
        }
        eval::Kind::MissingId => {
            w.hint =
                "add the id to the document, or set source.on_missing_id: position in the mapping";
        }
        eval::Kind::NotAnObject if head.starts_with("expected an object keyed by id") => {
            w.hint = "the source path of a keyed entity must hold a JSON object";
        }
        eval::Kind::NotAnObject => w.hint = "every element of an entity array must be an object",
        eval::Kind::NotADocument => {
            w.hint = "fix or remove the source row, or set source.not_a_document: skip in the plan to migrate such users with no rows";
        }
        eval::Kind::IdTooLong => {
            w.path = "legacy id";
            w.hint = "shorten the id in the source document; apply --max-bad-users N sets its user aside meanwhile";
        }
        eval::Kind::DuplicateId => {
            w.message = "legacy id appears more than once".into();
            w.path = "legacy id";
            w.value = f.legacy_id.clone().map(Value::from);
            w.hint =
                "run the dedupe step on the document, or set source.on_duplicate_id: keep_first";
        }
        eval::Kind::Orphan => {
            w.hint = "fix the reference, or set parent.on_missing to null or skip in the mapping";
        }
        eval::Kind::MissingReference => {
            w.hint = "set the reference's on_missing to \"null\" (the value is kept in extra) or skip, or fix the data";
        }
        eval::Kind::Unrouted => {
            w.message = "element of a kind no entity takes".into();
            w.hint = "add its kind to an entity's where.in, take the other kinds with where.others: take, or drop them with where.others: drop";
        }
        eval::Kind::TooDeep => {
            w.message = head
                .find("nested deeper")
                .map_or(head, |i| &head[i..])
                .into();
            w.hint =
                "raise the entity's recursive.max_depth if the document is meant to be this deep";
        }
        eval::Kind::UnmappedKey => {
            w.message = "keys neither mapped nor dropped".into();
            w.hint = "map or drop these keys, or give the mapping an extra column";
        }
        eval::Kind::NotAnArray => w.hint = "the source path of an entity must hold a JSON array",
        _ => {}
    }
    w
}
