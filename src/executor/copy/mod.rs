//! The COPY write path (`apply --engine copy`): a batch's documents read once, evaluated in Rust
//! by the evaluator `preview` uses (held equal to `03_forward.sql` row for row), and the rows of
//! every entity, then the audit, streamed with `COPY ... FROM STDIN (FORMAT binary)` in the
//! batch's transaction, parents first. The writer does not judge its own work: the batch (see
//! `executor::batch`) then runs `04_verify.sql`, which recomputes from the source documents what
//! the tables must hold, as after the SQL path.

pub(crate) mod documents;
pub(crate) mod encode;
pub(crate) mod prefetch;
pub(crate) mod shred;

use std::collections::BTreeMap;
use std::io::Write;

use postgres::Transaction;
use serde_json::Value;

use crate::ident::quote_ident;
use crate::ir::{Entity, Plan};
use encode::Kind;
use shred::{Shred, shred_all};

/// Why the COPY path could not write a batch: the server's error, or a document the evaluator
/// finds a batch-stopping problem in (what the SQL path would raise), naming the user.
pub(crate) enum CopyError {
    Db(postgres::Error),
    Data {
        user: String,
        message: String,
    },
    /// A document the evaluator refuses, in the words, DETAIL and SQLSTATE (22023) the SQL
    /// path's `fail()` raises for it, so the report and the quarantine read the same.
    Document {
        message: String,
        detail: Value,
        hint: String,
    },
}

impl From<postgres::Error> for CopyError {
    fn from(e: postgres::Error) -> Self {
        CopyError::Db(e)
    }
}

/// What the COPY path did with a batch (or the part being tried).
pub(crate) struct Written {
    /// Rows each entity's COPY wrote, as the server counted them (its command tags).
    pub(crate) written: BTreeMap<String, u64>,
    /// Users whose documents are too large to evaluate in the client (`LARGEST_DOCUMENT`): nothing
    /// of theirs is written yet; `03_forward.sql` shreds them on the server.
    pub(crate) too_big: Vec<String>,
    /// The users of the batch or part, as `pgshred.batch_users` set them.
    pub(crate) users: Vec<String>,
}

/// Writes the batch's users (`pgshred.batch_users`, as set for the batch or the part being
/// tried) for `entities` (all when `None`), chunk by chunk; what the server says it wrote.
pub(crate) fn write(
    tx: &mut Transaction,
    plan: &Plan,
    entities: Option<&[String]>,
    prepared: Option<prefetch::Prepared>,
    shredding: &Shredding,
) -> Result<Written, CopyError> {
    let t = std::time::Instant::now();
    let a = quote_ident(&plan.audit_schema);
    tx.batch_execute(&format!(
        "SET LOCAL TIME ZONE 'UTC'; SELECT {a}.{}()",
        quote_ident(&format!("{}_begin_forward", plan.name))
    ))?;
    let ids = tx.query_one(
        &format!("SELECT {a}.batch_users(), {a}.run_id(), {a}.batch_id()"),
        &[],
    )?;
    let (users, run, batch): (Vec<String>, i64, i64) = (ids.get(0), ids.get(1), ids.get(2));
    let selected: Vec<bool> = plan
        .entities
        .iter()
        .map(|e| entities.is_none_or(|list| list.contains(&e.name)))
        .collect();
    let cols: Vec<Vec<(String, Kind)>> = plan.entities.iter().map(columns).collect();
    let mut w = Writer {
        plan,
        selected: &selected,
        cols: &cols,
        run,
        batch,
        written: BTreeMap::new(),
        shredding,
        t: shredding.phases.lap("begin", t),
    };
    // What was read ahead (the first chunk, or all) is written first; the rest is read here.
    let mut rest = users.clone();
    if let Some((shred, covered)) = read_ahead_still_valid(tx, plan, &users, prepared)? {
        w.t = w.shredding.phases.lap("check read-ahead", w.t);
        w.copy(tx, shred)?;
        let covered: std::collections::BTreeSet<String> = covered.into_iter().collect();
        rest.retain(|u| !covered.contains(u));
    }
    let too_big = if rest.is_empty() {
        Vec::new()
    } else {
        read_and_write(tx, plan, &rest, &mut w)?
    };
    Ok(Written {
        written: w.written,
        too_big,
        users,
    })
}

/// Reads `users`' documents chunk by chunk and writes them, each chunk shredded on threads of its
/// own while the one before is written (the server's COPY of one chunk overlaps the evaluation of
/// the next); returns the users whose documents are too large for the client. Chunks are written
/// in order, so the first problem in document order is the one reported.
fn read_and_write(
    tx: &mut Transaction,
    plan: &Plan,
    users: &[String],
    w: &mut Writer,
) -> Result<Vec<String>, CopyError> {
    let (selected, cols) = (w.selected, w.cols);
    std::thread::scope(|s| {
        let mut shredding: Option<std::thread::ScopedJoinHandle<Result<Shred, CopyError>>> = None;
        let too_big = documents::in_chunks(tx, plan, users, |tx, docs| {
            w.t = w.shredding.phases.lap("read", w.t);
            let threads = w.shredding.threads;
            let next = s.spawn(move || shred_all(plan, selected, cols, &docs, threads));
            match shredding.replace(next) {
                Some(before) => write_shredded(tx, w, before),
                None => Ok(()),
            }
        })?;
        if let Some(last) = shredding.take() {
            write_shredded(tx, w, last)?;
        }
        Ok(too_big)
    })
}

/// Waits for a chunk's shredding and writes it.
fn write_shredded(
    tx: &mut Transaction,
    w: &mut Writer,
    shredding: std::thread::ScopedJoinHandle<Result<Shred, CopyError>>,
) -> Result<(), CopyError> {
    let shred = shredding.join().unwrap_or_else(|panic| {
        Err(CopyError::Data {
            user: String::new(),
            message: format!(
                "shredding a chunk of the batch failed ({}): a bug of pgshred; `--engine sql` writes the batch in the server",
                shred::panic_words(panic.as_ref())
            ),
        })
    })?;
    w.t = w.shredding.phases.lap("shred", w.t);
    w.copy(tx, shred)
}

/// What the shredding of a batch may use: threads, and where its phases' time is added.
pub(crate) struct Shredding<'a> {
    pub(crate) threads: usize,
    pub(crate) phases: &'a crate::executor::phases::Phases,
}

/// Writes shredded chunks of a batch, counting what the server wrote per entity.
struct Writer<'a> {
    shredding: &'a Shredding<'a>,
    plan: &'a Plan,
    selected: &'a [bool],
    cols: &'a [Vec<(String, Kind)>],
    run: i64,
    batch: i64,
    /// entity -> rows COPY wrote.
    written: BTreeMap<String, u64>,
    t: std::time::Instant,
}

impl Writer<'_> {
    /// COPYs a chunk's rows, entity by entity, parents first, then the audit of every entity in
    /// one COPY (one statement less per entity: each costs a round trip and its setup).
    fn copy(&mut self, tx: &mut Transaction, shred: Shred) -> Result<(), CopyError> {
        let plan = self.plan;
        for (i, e) in plan.entities.iter().enumerate() {
            if !self.selected[i] {
                continue;
            }
            let wrote = copy_tuples(tx, plan, e, &self.cols[i], &shred.tuples[i])?;
            *self.written.entry(e.name.clone()).or_default() += wrote;
            self.t = self.shredding.phases.lap("copy rows", self.t);
        }
        let audit = plan
            .entities
            .iter()
            .zip(&shred.audit)
            .zip(self.selected)
            .filter(|(_, selected)| **selected)
            .map(|(audit, _)| audit);
        copy_audit(tx, plan, audit, self.run, self.batch)?;
        self.t = self.shredding.phases.lap("copy audit", self.t);
        Ok(())
    }
}

/// Whether some of the batch's users were migrated before and the batch does not replace their
/// rows (`apply --user` taking migrated users again): their rows may be there already, which
/// COPY cannot skip. Such a batch runs `03_forward.sql`, whose inserts skip what exists.
pub(crate) fn rows_may_exist(
    tx: &mut Transaction,
    plan: &Plan,
    b: &crate::executor::sql::Batch,
) -> Result<bool, postgres::Error> {
    let a = quote_ident(&plan.audit_schema);
    // The batch as parameters, not the settings: on Citus a query of the ledger runs where the
    // ledger is, which may not be where the settings were made.
    Ok(tx
        .query_one(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {a}.\"migration_users\" AS m \
                  WHERE m.\"plan\" = $1 AND m.\"user_id\" = ANY ($2)) \
                    AND NOT coalesce((SELECT b.\"replace\" FROM {a}.\"migration_batches\" AS b WHERE b.\"id\" = $3), false)"
            ),
            &[&plan.name, &b.users, &b.id],
        )?
        .get(0))
}

/// The shred read ahead for these users and the users it covers, if the rows it was read from
/// are the very versions this transaction sees.
fn read_ahead_still_valid(
    tx: &mut Transaction,
    plan: &Plan,
    users: &[String],
    prepared: Option<prefetch::Prepared>,
) -> Result<Option<(Shred, Vec<String>)>, CopyError> {
    let Some(p) = prepared.filter(|p| p.users == users && p.shred.is_some()) else {
        return Ok(None);
    };
    if prefetch::versions(tx, plan, &p.covered)? != p.versions {
        return Ok(None);
    }
    Ok(p.shred.map(|s| (s, p.covered)))
}

/// The columns COPY writes for an entity, in the table's terms, with their types.
fn columns(e: &Entity) -> Vec<(String, Kind)> {
    let mut cols = vec![
        ("id".to_string(), Kind::UUID),
        ("user_id".to_string(), Kind::TEXT),
        ("legacy_id".to_string(), Kind::TEXT),
    ];
    if let Some(p) = &e.position {
        cols.push((p.clone(), Kind::INTEGER));
    }
    if let Some(p) = &e.parent {
        cols.push((p.column.clone(), Kind::UUID));
    }
    if let Some(t) = &e.recursive {
        cols.push((t.column.clone(), Kind::UUID));
        cols.push((t.depth_column.clone(), Kind::INTEGER));
    }
    for r in &e.references {
        cols.push((r.column.clone(), Kind::UUID));
    }
    for c in &e.columns {
        cols.push((c.name.clone(), Kind::Mapped(c.ty)));
        if let Some(p) = &c.parsed {
            cols.push((p.name.clone(), Kind::Mapped(p.ty)));
            if let Some(precision) = &p.precision {
                cols.push((precision.clone(), Kind::Mapped(crate::ir::SqlType::Text)));
            }
        }
    }
    if let Some(x) = &e.extra {
        cols.push((x.clone(), Kind::JSONB));
    }
    cols
}

fn copy_tuples(
    tx: &mut Transaction,
    plan: &Plan,
    e: &Entity,
    cols: &[(String, Kind)],
    tuples: &[u8],
) -> Result<u64, CopyError> {
    if tuples.is_empty() {
        return Ok(0);
    }
    let names: Vec<String> = cols.iter().map(|(n, _)| quote_ident(n)).collect();
    let sql = format!(
        "COPY {}.{} ({}) FROM STDIN (FORMAT binary)",
        quote_ident(&plan.target_schema),
        quote_ident(&e.table),
        names.join(", ")
    );
    let mut head = Vec::new();
    encode::header(&mut head);
    let mut tail = Vec::new();
    encode::trailer(&mut tail);
    send(tx, &sql, &[&head, tuples, &tail])
}

/// Streams COPY data (in pieces, so the tuples are not copied again) and ends the COPY; the
/// rows the server says it wrote.
fn send(tx: &mut Transaction, sql: &str, pieces: &[&[u8]]) -> Result<u64, CopyError> {
    let mut w = tx.copy_in(sql)?;
    for p in pieces {
        w.write_all(p).map_err(|e| CopyError::Data {
            user: String::new(),
            message: format!("writing COPY data: {e}"),
        })?;
    }
    Ok(w.finish()?)
}

/// One audit set per user and entity: its legacy ids and the new ids, in the SQL path's order (by
/// legacy id, then id).
fn copy_audit<'a>(
    tx: &mut Transaction,
    plan: &Plan,
    entities: impl Iterator<Item = (&'a Entity, &'a BTreeMap<String, Vec<(String, String)>>)>,
    run: i64,
    batch: i64,
) -> Result<(), CopyError> {
    let mut buf = Vec::new();
    encode::header(&mut buf);
    let at_start = buf.len();
    for (e, per_user) in entities {
        audit_sets(&mut buf, e, per_user, run, batch)?;
    }
    if buf.len() == at_start {
        return Ok(());
    }
    encode::trailer(&mut buf);
    let sql = format!(
        "COPY {}.\"migration_audit_sets\" (\"run_id\", \"batch_id\", \"user_id\", \"source_entity\", \"target_table\", \"legacy_ids\", \"target_ids\") FROM STDIN (FORMAT binary)",
        quote_ident(&plan.audit_schema)
    );
    send(tx, &sql, &[&buf]).map(drop)
}

/// An entity's audit sets, as COPY tuples.
fn audit_sets(
    buf: &mut Vec<u8>,
    e: &Entity,
    per_user: &BTreeMap<String, Vec<(String, String)>>,
    run: i64,
    batch: i64,
) -> Result<(), CopyError> {
    for (user, pairs) in per_user {
        let mut pairs = pairs.clone();
        pairs.sort();
        let legacy: Vec<Value> = pairs.iter().map(|p| Value::from(p.0.as_str())).collect();
        let ids: Vec<Value> = pairs.iter().map(|p| Value::from(p.1.as_str())).collect();
        let fields = [
            (Kind::BIGINT, Value::from(run)),
            (Kind::BIGINT, Value::from(batch)),
            (Kind::TEXT, Value::from(user.as_str())),
            (Kind::TEXT, Value::from(e.name.as_str())),
            (Kind::TEXT, Value::from(e.table.as_str())),
            (
                Kind::Mapped(crate::ir::SqlType::TextArray),
                Value::Array(legacy),
            ),
            (Kind::UuidArray, Value::Array(ids)),
        ];
        encode::tuple_start(buf, fields.len());
        for (kind, v) in &fields {
            encode::field(buf, *kind, v).map_err(|m| CopyError::Data {
                user: user.clone(),
                message: m,
            })?;
        }
    }
    Ok(())
}
