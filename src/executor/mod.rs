//! The executor: applies a compiled plan to a real database, batch by batch.
//!
//! One batch is one transaction: `SET LOCAL` timeouts, the batch settings, `03_forward.sql`,
//! `04_verify.sql`, and the ledger update marking the batch done. A failure anywhere rolls the whole
//! batch back. Progress lives in the ledger tables, so a killed run resumes without duplicates, and
//! a session advisory lock per plan keeps two executors apart.
//!
//! The executor runs the compiled scripts as they are; the few statements of its own (catalog
//! checks, ledger calls) live in [`sql`], with every identifier quoted by [`crate::ident`].

pub mod guard;
mod ops;
mod preflight;
mod progress;
pub mod runbook;
mod schema;
pub mod sql;
mod verify;

use crate::pg::Context;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use postgres::{Client, Transaction};
use serde_json::{Value, json};

use crate::Error;
use crate::compiled::Compiled;
use crate::error::BatchFailure;
use crate::ir::Plan;
use crate::versions::Versions;
use guard::Guard;

pub use ops::{RollbackTarget, RolledBack, rollback, status};
pub use progress::{Bar, Lines, Quiet, Reporter, for_terminal};
pub use verify::{Verdict, verify};

/// Rows created per target table.
pub type RowCounts = BTreeMap<String, i64>;

/// A legacy id -> new id example: (table, legacy id, new id).
pub type Sample = (String, String, String);

/// What `pgshred apply` was asked to do.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub batch_size: usize,
    /// At most this many users in all (the next ones not yet migrated).
    pub limit: Option<usize>,
    /// Only these users (migrated or not).
    pub users: Vec<String>,
    pub dry_run: bool,
    pub resume: bool,
    pub create_schema: bool,
    pub allow_duplicates: bool,
    pub lock_timeout: String,
    pub statement_timeout: String,
    /// Worker connections claiming batches in parallel.
    pub jobs: usize,
    /// Help with another process's unfinished run instead of starting one (no lock, no planning).
    pub join: bool,
    /// Users whose documents fail may be set aside (quarantined) up to this many per run; 0 stops
    /// at the first failing batch.
    pub max_bad_users: usize,
    /// Take the quarantined users (and only them) again.
    pub retry_quarantined: bool,
    /// Entities whose changed mapping may be re-applied to users migrated with an older one
    /// (with every entity below them).
    pub remap: Vec<String>,
    /// Also re-migrate users whose source row changed (or disappeared) since they were migrated.
    pub sync: bool,
}

/// A user set aside by `--max-bad-users`, and why.
#[derive(Debug, Clone)]
pub struct BadUser {
    pub user: String,
    pub message: String,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    pub run: Option<i64>,
    pub dry_run: bool,
    pub batches: usize,
    pub users: usize,
    pub rows: BTreeMap<String, i64>,
    /// A few legacy id -> new id pairs per table (dry runs).
    pub samples: Vec<(String, String, String)>,
    /// Users this run quarantined.
    pub quarantined: Vec<BadUser>,
    pub elapsed: Duration,
}

impl Report {
    pub fn total_rows(&self) -> i64 {
        self.rows.values().sum()
    }
}

/// A batch to run: its ledger id, sequence number and users.
#[derive(Debug, Clone)]
struct Batch {
    id: i64,
    seq: i32,
    users: Vec<String>,
    /// The entities it migrates; `None`: all.
    entities: Option<Vec<String>>,
}

/// Applies the plan. `files` are the compiled scripts (as `codegen::render` returns them).
pub fn apply(
    plan: &Plan,
    files: &Compiled,
    url: &str,
    opts: &ApplyOptions,
    out: &mut dyn Reporter,
) -> Result<Report, Error> {
    let started = Instant::now();
    let q = sql::Queries::new(plan);
    let mut client = crate::pg::connect(url)?;
    out.line(&format!("connected to {}", crate::pg::describe(url)));
    preflight::refuse_transaction_pooler(url)?;
    preflight::check_source(&mut client, plan, &q, opts.allow_duplicates, out)?;
    // Joiners share a run the lock holder planned; batch claims keep them apart, and their
    // batches prove the leader's guard like the leader's own. A joiner that finds no leader
    // leads the unfinished run itself.
    let guard = match Guard::take(&mut client, &plan.name) {
        Err(Error::Refused { .. }) if opts.join => Guard::find(&mut client, &plan.name)?,
        taken => taken?,
    };
    // Decided before the schema changes, so a refused run leaves the database as it was.
    let versions = Versions::compiled(plan, files);
    let work = if opts.resume || opts.join || !opts.users.is_empty() {
        Vec::new()
    } else {
        rework(&mut client, plan, &q, &versions, opts, out)?
    };
    if opts.create_schema && !opts.dry_run {
        schema::apply(&mut client, plan, files, &opts.lock_timeout, out)?;
    }
    preflight::check_targets(&mut client, plan, &q, opts.create_schema && opts.dry_run)?;
    let sum = files.checksum();

    let mut report = Report {
        dry_run: opts.dry_run,
        ..Report::default()
    };
    if opts.dry_run {
        // The same work a run would plan (re-migrations and backfills first, then new users),
        // each batch tried in a transaction that is rolled back.
        let size = opts.batch_size.max(1);
        let mut left = opts.limit.map(|l| l as i64);
        let mut batches: Vec<(Batch, bool)> = Vec::new();
        let mut add = |users: &[String], entities: Option<Vec<String>>, replace: bool| {
            for u in users.chunks(size) {
                let seq = batches.len() as i32 + 1;
                let b = Batch {
                    id: 0,
                    seq,
                    users: u.to_vec(),
                    entities: entities.clone(),
                };
                batches.push((b, replace));
            }
        };
        for w in &work {
            let users = q.rework_users(&mut client, &plan.name, w, left)?;
            left = left.map(|l| (l - users.len() as i64).max(0));
            let names = w.entities.as_object().map(|m| m.keys().cloned().collect());
            add(&users, names, w.replace);
        }
        let users = if opts.users.is_empty() {
            q.unmigrated_users(&mut client, &plan.name, left, opts.retry_quarantined)?
        } else {
            choose_users(&mut client, plan, &q, opts)?
        };
        add(&users, None, false);
        let total: usize = batches.iter().map(|(b, _)| b.users.len()).sum();
        out.start(total, batches.len());
        for (b, replace) in &batches {
            let (rows, samples) = dry_batch(
                &mut client,
                plan,
                files,
                &q,
                &sum,
                opts,
                &guard,
                b,
                *replace,
            )?;
            merge(&mut report.rows, &rows);
            if report.samples.is_empty() {
                report.samples = samples;
            }
            report.batches += 1;
            report.users += b.users.len();
            out.batch_done(b.seq, b.users.len(), &rows);
        }
        out.finish();
        report.elapsed = started.elapsed();
        return Ok(report);
    }

    let (run, total_batches, total_users) =
        plan_run(&mut client, plan, &versions, &work, &q, &sum, opts, out)?;
    report.run = Some(run);
    out.start(total_users, total_batches);
    let failure = run_workers(url, files, &q, &guard, run, opts, |b, rows, bad| {
        merge(&mut report.rows, rows);
        report.batches += 1;
        report.users += b.users.len() - bad.len();
        for u in bad {
            out.line(&format!("quarantined user {}: {}", u.user, u.message));
        }
        report.quarantined.extend_from_slice(bad);
        out.batch_done(b.seq, b.users.len(), rows);
    });
    out.finish();
    match failure {
        None => {}
        Some(Outcome::Failed(mut f)) => {
            // The batch rolled back with its transaction whatever happens here; when the server
            // is gone (a crash, a restart) the ledger cannot hear of it, and the batch simply
            // stays pending for --resume.
            match record_failure(&mut client, &q, &f).and_then(|()| q.count_done(&mut client, run))
            {
                Ok(n) => f.committed = n,
                Err(e) => {
                    f.committed = report.batches;
                    f.hint = Some(format!(
                        "{}the failure could not be recorded in the ledger ({}); the batch stays pending, and --resume runs it again once the server is back",
                        f.hint.take().map(|h| format!("{h}; ")).unwrap_or_default(),
                        first_line(&e.to_string())
                    ));
                }
            }
            return Err(Error::Batch(f));
        }
        Some(Outcome::Error(e)) => return Err(e),
        Some(Outcome::Done(..)) => unreachable!("a worker reports only failures as its last word"),
    }
    if let Err(e) = q.finish_run(&mut client, run) {
        // The guard's own session is gone: every batch committed, but the run stays for a
        // `--resume` (with nothing left to do) to close.
        return Err(if client.is_closed() {
            guard.lost(run)
        } else {
            e
        });
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// What a worker reports.
enum Outcome {
    Done(Batch, RowCounts, Vec<BadUser>),
    Failed(Box<BatchFailure>),
    Error(Error),
}

/// Runs the run's pending batches on `opts.jobs` connections; each worker claims the next batch
/// with `FOR UPDATE SKIP LOCKED` inside that batch's own transaction, so workers in this process,
/// or in `--join`ed processes elsewhere, never take the same batch. The first failure stops the
/// others from claiming more; it is returned.
fn run_workers(
    url: &str,
    files: &Compiled,
    q: &sql::Queries,
    guard: &Guard,
    run: i64,
    opts: &ApplyOptions,
    mut done: impl FnMut(&Batch, &RowCounts, &[BadUser]),
) -> Option<Outcome> {
    let stop = AtomicBool::new(false);
    let (events, received) = mpsc::channel::<Outcome>();
    let mut failure = None;
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            let events = events.clone();
            let stop = &stop;
            s.spawn(move || {
                let mut client = match crate::pg::connect(url) {
                    Ok(c) => c,
                    Err(e) => {
                        stop.store(true, Ordering::SeqCst);
                        let _ = events.send(Outcome::Error(e));
                        return;
                    }
                };
                while !stop.load(Ordering::SeqCst) {
                    match claim_and_run(&mut client, files, q, guard, run, opts) {
                        Ok(None) => return,
                        Ok(Some((b, rows, bad))) => {
                            let _ = events.send(Outcome::Done(b, rows, bad));
                        }
                        Err(outcome) => {
                            stop.store(true, Ordering::SeqCst);
                            let _ = events.send(outcome);
                            return;
                        }
                    }
                }
            });
        }
        drop(events);
        for event in received {
            match event {
                Outcome::Done(b, rows, bad) => done(&b, &rows, &bad),
                other => {
                    failure.get_or_insert(other);
                }
            }
        }
    });
    failure
}

/// Claims the next pending batch of the run and runs it, in one transaction; `None` when no batch
/// is left to claim. With `--max-bad-users`, a batch that fails on its data is split in halves, each
/// tried under its own savepoint, down to the single users to quarantine; the good parts and the
/// ledger entry still commit as one transaction, so a crash mid-way leaves the whole batch to redo.
fn claim_and_run(
    client: &mut Client,
    files: &Compiled,
    q: &sql::Queries,
    guard: &Guard,
    run: i64,
    opts: &ApplyOptions,
) -> Result<Option<(Batch, RowCounts, Vec<BadUser>)>, Outcome> {
    let (mut tx, b) = loop {
        match claim(client, q, run)? {
            Some((tx, Some(b))) => break (tx, b),
            Some((_, None)) => return Ok(None),
            None => continue,
        }
    };
    let fail = |e: postgres::Error| Outcome::Failed(Box::new(failure_from(&e, run, &b)));
    failpoint("claimed", b.seq);
    let (started, proven) = begin(&mut tx, opts, guard, run, b.id, &b.users).map_err(fail)?;
    if !proven {
        return Err(Outcome::Error(guard.lost(run)));
    }
    let mut bad = Vec::new();
    if opts.max_bad_users == 0 {
        if let Err(e) = run_part(&mut tx, files, &b) {
            return Err(Outcome::Failed(Box::new(e.into_failure(run, &b))));
        }
        failpoint("verified", b.seq);
    } else {
        isolate(&mut tx, files, &b, &b.users, &mut bad).map_err(fail)?;
        for (user, problem) in &bad {
            q.quarantine(&mut tx, user, b.id, &problem.as_json())
                .map_err(fail)?;
        }
        if !bad.is_empty() {
            let total = q.quarantined_in_run(&mut tx, run).map_err(fail)?;
            if total > opts.max_bad_users as i64 {
                drop(tx);
                let (user, problem) = &bad[0];
                return Err(Outcome::Failed(Box::new(BatchFailure {
                    message: format!(
                        "more than {} bad users: batch {} would make {total} quarantined in run {run} (user {user}: {})",
                        opts.max_bad_users, b.seq, problem.message
                    ),
                    hint: Some(
                        "this batch was rolled back; `pgshred status PLAN` lists the quarantined users. Fix the source or the mapping, or raise --max-bad-users, then continue with --resume --max-bad-users N"
                            .into(),
                    ),
                    detail: problem.detail.clone(),
                    sqlstate: problem.sqlstate.clone(),
                    ..failure_from_message(run, &b)
                })));
            }
        }
    }
    let rows = q.finish_batch(&mut tx, b.id, started).map_err(fail)?;
    failpoint("finished", b.seq);
    tx.commit().map_err(fail)?;
    failpoint("committed", b.seq);
    let bad = bad
        .into_iter()
        .map(|(user, p)| BadUser {
            user,
            message: p.message,
        })
        .collect();
    Ok(Some((b, rows, bad)))
}

/// Starts a batch's transaction and claims the run's next pending batch in it; `Ok(None)` when
/// the claim must be tried again. The transaction is REPEATABLE READ so that every statement of
/// the batch (each entity's, and the verification) reads the documents as of one snapshot: at
/// READ COMMITTED a document the application updates mid-batch would give parents of one version
/// and children of the next. A claim that meets a batch another worker committed after this
/// snapshot was taken cannot lock it at this level (SQLSTATE 40001), so it is tried again.
fn claim<'c>(
    client: &'c mut Client,
    q: &sql::Queries,
    run: i64,
) -> Result<Option<(Transaction<'c>, Option<Batch>)>, Outcome> {
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .start()
        .context("starting a batch")
        .map_err(Outcome::Error)?;
    match q.claim_batch(&mut tx, run) {
        Ok(b) => Ok(Some((tx, b))),
        Err(Error::Database { source, .. })
            if source.code() == Some(&postgres::error::SqlState::T_R_SERIALIZATION_FAILURE) =>
        {
            Ok(None)
        }
        Err(e) => Err(Outcome::Error(e)),
    }
}

/// Why a part of a batch failed.
#[derive(Debug)]
struct Problem {
    message: String,
    detail: Option<Value>,
    hint: Option<String>,
    sqlstate: Option<String>,
    /// The users' documents are at fault (a data or integrity error, a verification mismatch),
    /// not the connection or the server: splitting the part can find the users to set aside.
    data: bool,
    /// The server's error, for problems that stop the batch whatever the users.
    source: Option<postgres::Error>,
}

impl Problem {
    fn from_db(e: postgres::Error) -> Problem {
        let (message, detail, hint, sqlstate) = error_parts(&e);
        // 54000: a value too large for an index entry, which only the users' documents hold.
        let data = sqlstate
            .as_deref()
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23") || c == "54000");
        Problem {
            message,
            detail,
            hint,
            sqlstate,
            data,
            source: Some(e),
        }
    }

    /// What the quarantine table records.
    fn as_json(&self) -> Value {
        let d = self.detail.as_ref();
        let field = |k: &str| d.and_then(|d| d.get(k)).cloned().unwrap_or(Value::Null);
        json!({
            "message": self.message,
            "sqlstate": self.sqlstate,
            "entity": field("entity"),
            "legacy_id": field("legacy_id"),
            "path": field("path"),
            "value": field("value"),
        })
    }

    fn into_failure(self, run: i64, b: &Batch) -> BatchFailure {
        BatchFailure {
            message: self.message,
            detail: self.detail,
            hint: self.hint,
            sqlstate: self.sqlstate,
            ..failure_from_message(run, b)
        }
    }
}

/// Runs the forward script and the verification for the batch users set in the transaction;
/// returns the verification's mismatches in words.
fn forward_and_verify(
    tx: &mut Transaction,
    files: &Compiled,
    b: &Batch,
) -> Result<Vec<String>, postgres::Error> {
    tx.batch_execute(&files.forward(b.entities.as_deref()))?;
    failpoint("forward", b.seq);
    Ok(tx
        .query(files.verify(), &[])?
        .iter()
        .map(mismatch_line)
        .collect())
}

/// `forward_and_verify`, with a mismatch as a problem of the data.
fn run_part(tx: &mut Transaction, files: &Compiled, b: &Batch) -> Result<(), Problem> {
    let mismatches = forward_and_verify(tx, files, b).map_err(Problem::from_db)?;
    if mismatches.is_empty() {
        return Ok(());
    }
    Err(Problem {
        message: format!("verification failed: {}", mismatches.join("; ")),
        detail: None,
        hint: Some(
            "the written rows do not match the documents; nothing of this batch was kept".into(),
        ),
        sqlstate: None,
        data: true,
        source: None,
    })
}

/// Runs `users` under a savepoint; when their documents fail, splits them in halves and tries
/// each, down to single users, which are returned in `bad` with their problem. Fails only on an
/// error that is not about the data (a lost connection, a timeout), which no split can fix.
fn isolate(
    tx: &mut Transaction,
    files: &Compiled,
    b: &Batch,
    users: &[String],
    bad: &mut Vec<(String, Problem)>,
) -> Result<(), postgres::Error> {
    let mut part = tx.savepoint("pgshred_part")?;
    part.execute(
        "SELECT set_config('pgshred.batch_users', $1::text[]::text, true)",
        &[&users],
    )?;
    match run_part(&mut part, files, b) {
        Ok(()) => part.commit(),
        Err(p) if p.data => {
            part.rollback()?;
            if let [user] = users {
                bad.push((user.clone(), p));
                return Ok(());
            }
            let (left, right) = users.split_at(users.len() / 2);
            isolate(tx, files, b, left, bad)?;
            isolate(tx, files, b, right, bad)
        }
        Err(p) => {
            part.rollback()?;
            Err(p.source.expect("a non-data problem comes from the server"))
        }
    }
}

/// For fault-injection tests: with `PGSHRED_FAILPOINT=<point>:<batch seq>` in the environment
/// the process dies there as if killed (no unwinding, no goodbye to the server). The points are
/// claimed, forward, verified, finished (ledger updated, not committed) and committed.
fn failpoint(point: &str, seq: i32) {
    static WANTED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let wanted = WANTED.get_or_init(|| std::env::var("PGSHRED_FAILPOINT").ok());
    if let Some(wanted) = wanted
        && *wanted == format!("{point}:{seq}")
    {
        std::process::abort();
    }
}

/// One row of 04_verify.sql (user, entity, expected, present) in words.
pub fn mismatch_line(r: &postgres::Row) -> String {
    format!(
        "user {} {}: {} rows expected, {} present",
        r.get::<_, String>(0),
        r.get::<_, String>(1),
        r.get::<_, i64>(2),
        r.get::<_, i64>(3)
    )
}

fn merge(total: &mut BTreeMap<String, i64>, rows: &BTreeMap<String, i64>) {
    for (t, n) in rows {
        *total.entry(t.clone()).or_default() += n;
    }
}

/// The users of a new run: `--user` as given, else the next ones with nothing migrated yet.
fn choose_users(
    client: &mut Client,
    plan: &Plan,
    q: &sql::Queries,
    opts: &ApplyOptions,
) -> Result<Vec<String>, Error> {
    if !opts.users.is_empty() {
        let found = q.existing_users(client, &opts.users)?;
        let missing: Vec<&String> = opts.users.iter().filter(|u| !found.contains(u)).collect();
        if !missing.is_empty() {
            return Err(Error::Input(format!(
                "no source row for user {}",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if let Some(long) = found.iter().find(|u| u.len() > crate::ids::MAX_ID_BYTES) {
            return Err(Error::Input(format!(
                "user id {:?}... is {} bytes long; at most {} can be migrated (an index entry holds at most 2,704 bytes)",
                long.chars().take(40).collect::<String>(),
                long.len(),
                crate::ids::MAX_ID_BYTES
            )));
        }
        return Ok(found);
    }
    q.unmigrated_users(
        client,
        &plan.name,
        opts.limit.map(|l| l as i64),
        opts.retry_quarantined,
    )
}

/// Starts a new run (batches planned up front) or picks up the unfinished one with `--resume`.
#[allow(clippy::too_many_arguments)]
fn plan_run(
    client: &mut Client,
    plan: &Plan,
    versions: &Versions,
    work: &[sql::Rework],
    q: &sql::Queries,
    sum: &str,
    opts: &ApplyOptions,
    out: &mut dyn Reporter,
) -> Result<(i64, usize, usize), Error> {
    let unfinished = q.unfinished_run(client, &plan.name)?;
    if opts.join && unfinished.is_none() {
        return Err(Error::refused(
            format!("there is no unfinished run of plan {} to join", plan.name),
            "start the run first (pgshred apply PLAN), then --join from other processes or machines",
        ));
    }
    match (unfinished, opts.resume || opts.join) {
        (Some((run, old_sum)), true) => {
            if old_sum != sum {
                return Err(Error::refused(
                    format!(
                        "the compiled SQL changed since run {run} started (checksum {} -> {})",
                        &old_sum[..12.min(old_sum.len())],
                        &sum[..12]
                    ),
                    format!(
                        "finish run {run} with the plan it started with, or roll it back first: pgshred rollback PLAN --run {run}"
                    ),
                ));
            }
            let (batches, users) = q.pending_totals(client, run)?;
            out.line(&format!("resuming run {run}: {batches} batches left"));
            Ok((run, batches, users))
        }
        (None, true) => Err(Error::refused(
            format!("there is no unfinished run of plan {} to resume", plan.name),
            "start a new run without --resume; `pgshred status PLAN` lists the runs",
        )),
        (Some((run, _)), false) => {
            let (done, total) = q.batch_progress(client, run)?;
            Err(Error::refused(
                format!(
                    "run {run} of plan {} is unfinished ({done} of {total} batches done)",
                    plan.name
                ),
                format!(
                    "continue it with --resume, or roll it back: pgshred rollback PLAN --run {run}"
                ),
            ))
        }
        (None, false) => {
            let options = json!({
                "batch_size": opts.batch_size,
                "limit": opts.limit,
                "users": opts.users,
                "lock_timeout": opts.lock_timeout,
                "statement_timeout": opts.statement_timeout,
                "max_bad_users": opts.max_bad_users,
                "retry_quarantined": opts.retry_quarantined,
                "remap": opts.remap,
                "sync": opts.sync,
                "pgshred": env!("CARGO_PKG_VERSION"),
            });
            let size = opts.batch_size.max(1) as i32;
            let current = versions.map(None);
            let run = if opts.users.is_empty() {
                q.start_run_planned(
                    client,
                    &plan.name,
                    sum,
                    &options,
                    opts.limit.map(|l| l as i64),
                    size,
                    opts.retry_quarantined,
                    &current,
                    work,
                )?
            } else {
                let users = choose_users(client, plan, q, opts)?;
                q.start_run(client, &plan.name, sum, &options, &users, size, &current)?
            };
            let (batches, users) = q.pending_totals(client, run)?;
            out.line(&format!(
                "run {run}: {users} users in {batches} batches of up to {}",
                opts.batch_size
            ));
            Ok((run, batches, users))
        }
    }
}

/// What a new run does to users already migrated: with `--sync`, everything again for those whose
/// source changed; for each group of users migrated with the same mapping versions, the entities
/// they lack (a backfill) and, with `--remap`, the changed ones and those below them. Refused
/// when a mapping changed that `--remap` does not name. With `--retry-quarantined`, only the
/// migrated users a sync quarantined: they still have their previous document's rows, replaced.
fn rework(
    client: &mut Client,
    plan: &Plan,
    q: &sql::Queries,
    versions: &Versions,
    opts: &ApplyOptions,
    out: &mut dyn Reporter,
) -> Result<Vec<sql::Rework>, Error> {
    let remap: BTreeSet<String> = opts.remap.iter().cloned().collect();
    if let Some(unknown) = remap.iter().find(|e| !versions.contains(e)) {
        return Err(Error::Input(format!(
            "--remap {unknown}: the plan has no entity {unknown} (it has {})",
            versions.names().collect::<Vec<_>>().join(", ")
        )));
    }
    if !q.has_ledger(client)? {
        return Ok(Vec::new());
    }
    if opts.retry_quarantined {
        return Ok(vec![sql::Rework {
            users: sql::Reworked::Quarantined,
            entities: versions.map(None),
            replace: true,
        }]);
    }
    let sync = opts.sync.then(|| plan.source.order_column.clone());
    let groups = q.version_groups(client, &plan.name, sync.as_deref())?;
    let mut work = Vec::new();
    let changed: i64 = groups.iter().filter(|g| g.1).map(|g| g.2).sum();
    if let Some(order) = sync.as_ref().filter(|_| changed > 0) {
        out.line(&format!(
            "{changed} migrated users changed at the source (newer {order}, or gone): re-migrating them whole"
        ));
        work.push(sql::Rework {
            users: sql::Reworked::Changed {
                order: order.clone(),
            },
            entities: versions.map(None),
            replace: true,
        });
    }
    let mut refused: BTreeMap<String, i64> = BTreeMap::new();
    // Users changed at the source are taken whole above, whatever versions they have.
    for (recorded, _, users) in groups.into_iter().filter(|g| !g.1) {
        let empty = serde_json::Map::new();
        let map = recorded.as_object().unwrap_or(&empty);
        match versions.need(map, &remap) {
            Ok(None) => {}
            Ok(Some(need)) => {
                let (again, new): (Vec<&String>, Vec<&String>) =
                    need.entities.iter().partition(|e| map.contains_key(*e));
                let join =
                    |v: &[&String]| v.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
                let said: Vec<String> = [("re-migrate", join(&again)), ("backfill", join(&new))]
                    .into_iter()
                    .filter(|(_, e)| !e.is_empty())
                    .map(|(what, e)| format!("{what} {e}"))
                    .collect();
                out.line(&format!("{users} migrated users: {}", said.join("; ")));
                work.push(sql::Rework {
                    users: sql::Reworked::Group {
                        recorded: recorded.clone(),
                        sync: sync.clone(),
                    },
                    entities: versions.map(Some(&need.entities)),
                    replace: need.replace,
                });
            }
            Err(changed) => {
                for e in changed {
                    *refused.entry(e).or_default() += users;
                }
            }
        }
    }
    if refused.is_empty() {
        return Ok(work);
    }
    let entities: Vec<String> = refused.keys().cloned().collect();
    let said: Vec<String> = refused
        .iter()
        .map(|(e, n)| format!("{e} ({n} users migrated with an older version)"))
        .collect();
    let below: Vec<String> = versions
        .with_dependents(&entities)
        .into_iter()
        .filter(|e| !entities.contains(e))
        .collect();
    Err(Error::refused(
        format!(
            "the mapping of {} changed since users were migrated with it; nothing was written",
            said.join(", ")
        ),
        format!(
            "`pgshred diff PLAN --against REV` shows what changed. To re-migrate those users' rows batch by batch (rollback restores the old ones), run again with {}{}; or put the old mapping back",
            entities
                .iter()
                .map(|e| format!("--remap {e}"))
                .collect::<Vec<_>>()
                .join(" "),
            if below.is_empty() {
                String::new()
            } else {
                format!(" (also re-migrates {}, which hang below)", below.join(", "))
            }
        ),
    ))
}

/// Sets the transaction-local settings a batch runs under and proves the plan's guard (see
/// [`guard`]); returns when the batch started, as the server's clock has it, and whether the
/// guard is proven (one round trip for all of it). JIT is off: compiling the long, nested
/// expressions of the forward and verify statements costs far more than it saves on a batch.
fn begin(
    tx: &mut Transaction,
    opts: &ApplyOptions,
    guard: &Guard,
    run: i64,
    batch: i64,
    users: &[String],
) -> Result<(std::time::SystemTime, bool), postgres::Error> {
    // The server writes the array literal, so no user id can break out of it.
    let row = tx.query_one(
        &format!(
            "SELECT clock_timestamp(), set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true), \
                    set_config('pgshred.run_id', $3, true), set_config('pgshred.batch_id', $4, true), \
                    set_config('pgshred.batch_users', $5::text[]::text, true), set_config('jit', 'off', true), {}",
            guard::PROOF
        ),
        &[
            &opts.lock_timeout,
            &opts.statement_timeout,
            &run.to_string(),
            &batch.to_string(),
            &users,
            &guard::GATE_CLASS,
            &guard.plan,
            &sql::LOCK_CLASS,
            &guard.pid,
            &guard.started,
        ],
    )?;
    Ok((row.get(0), row.get::<_, bool>(7) && row.get::<_, bool>(8)))
}

fn failure_from(e: &postgres::Error, run: i64, b: &Batch) -> BatchFailure {
    let (message, detail, hint, sqlstate) = error_parts(e);
    BatchFailure {
        message,
        detail,
        hint,
        sqlstate,
        ..failure_from_message(run, b)
    }
}

/// Message, detail (the JSON pgshred's SQL attaches, else the text), hint and SQLSTATE.
/// Errors about the session rather than the data get a hint of what to do.
fn error_parts(e: &postgres::Error) -> (String, Option<Value>, Option<String>, Option<String>) {
    let (message, detail, hint, code) = match e.as_db_error() {
        Some(d) => (
            d.message().to_string(),
            d.detail()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .or_else(|| d.detail().map(|t| Value::String(t.into()))),
            d.hint().map(str::to_string),
            Some(d.code().code().to_string()),
        ),
        None => (e.to_string(), None, None, None),
    };
    let hint = hint.or_else(|| {
        let said = match code.as_deref() {
            Some("55P03") => {
                "another session holds a lock on a table this batch writes (see pg_locks and pg_stat_activity): let it finish, or raise --lock-timeout"
            }
            Some("57014") => {
                "the statement ran past --statement-timeout or was cancelled: raise the timeout or lower --batch-size"
            }
            Some("57P01" | "57P02" | "57P03") => {
                "the server ended the connection (a terminated backend, a restart or a failover); nothing of this batch was kept"
            }
            Some("40001" | "40P01") => {
                "a concurrent transaction conflicted with this batch; nothing of it was kept"
            }
            None if e.is_closed() => {
                "the connection was lost mid-batch; nothing of this batch was kept"
            }
            _ => return None,
        };
        Some(said.to_string())
    });
    (message, detail, hint, code)
}

fn failure_from_message(run: i64, b: &Batch) -> BatchFailure {
    BatchFailure {
        run,
        batch: b.id,
        seq: b.seq,
        users: b.users.clone(),
        committed: 0,
        message: String::new(),
        detail: None,
        hint: None,
        sqlstate: None,
    }
}

fn record_failure(client: &mut Client, q: &sql::Queries, f: &BatchFailure) -> Result<(), Error> {
    let error = json!({
        "message": f.message,
        "detail": f.detail,
        "hint": f.hint,
        "sqlstate": f.sqlstate,
    });
    q.fail_batch(client, f.batch, &error)
}

/// A dry-run batch: the same work in a transaction that is always rolled back.
#[allow(clippy::too_many_arguments)] // the batch, and what it runs
fn dry_batch(
    client: &mut Client,
    plan: &Plan,
    files: &Compiled,
    q: &sql::Queries,
    sum: &str,
    opts: &ApplyOptions,
    guard: &Guard,
    b: &Batch,
    replace: bool,
) -> Result<(RowCounts, Vec<Sample>), Error> {
    let mut tx = client.transaction().context("starting a dry-run batch")?;
    if opts.create_schema {
        // Created and rolled back with the batch, so a dry run leaves the database as it was.
        schema::run_scripts(&mut tx, files, &opts.lock_timeout)?;
    }
    let run = q.start_run_tx(
        &mut tx,
        &plan.name,
        sum,
        &json!({"dry_run": true}),
        &b.users,
        b.users.len().max(1) as i32,
    )?;
    let versions = Versions::compiled(plan, files);
    q.record_versions(&mut tx, run, &versions.map(None))?;
    let batch = q.batch_id_tx(&mut tx, run)?;
    if let Some(only) = &b.entities {
        q.set_batch_work(&mut tx, batch, &versions.map(Some(only)), replace)?;
    }
    let as_batch = Batch {
        id: batch,
        ..b.clone()
    };
    let fail = |e: postgres::Error| Error::Batch(Box::new(failure_from(&e, 0, &as_batch)));
    let (started, _) = begin(&mut tx, opts, guard, run, batch, &b.users).map_err(fail)?;
    let mismatches = forward_and_verify(&mut tx, files, b).map_err(fail)?;
    if !mismatches.is_empty() {
        return Err(Error::Verification(mismatches));
    }
    let rows = q.finish_batch(&mut tx, batch, started).map_err(fail)?;
    let samples = q.samples(&mut tx, batch)?;
    tx.rollback().context("rolling back a dry-run batch")?;
    Ok((rows, samples))
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Prints a finished report the way operators read it.
pub fn render_report(plan: &Plan, r: &Report) -> String {
    let rows: Vec<String> = plan
        .entities
        .iter()
        .map(|e| format!("{} {}", r.rows.get(&e.table).copied().unwrap_or(0), e.table))
        .collect();
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let mut s = if r.dry_run {
        format!(
            "dry run: {} users in {} would create {} rows, all rolled back\n",
            r.users,
            plural(r.batches, "batch", "batches"),
            r.total_rows()
        )
    } else {
        format!(
            "run {}: {} users in {}, {} rows created, verified and committed\n",
            r.run.map_or("-".into(), |x| x.to_string()),
            r.users,
            plural(r.batches, "batch", "batches"),
            r.total_rows()
        )
    };
    s.push_str(&format!("  rows: {}\n", rows.join(", ")));
    if plan.source.not_a_document == crate::ir::NotADocument::Skip {
        s.push_str("  policy: documents that are not JSON objects are migrated with no rows (source.not_a_document: skip); `pgshred verify` counts them\n");
    }
    if !r.quarantined.is_empty() {
        s.push_str(&format!(
            "  quarantined: {} (no rows written for them; `pgshred status PLAN` lists them)\n",
            plural(r.quarantined.len(), "user", "users")
        ));
    }
    s.push_str(&format!(
        "  time: {:.2}s ({:.0} users/s, {:.0} rows/s)\n",
        secs,
        r.users as f64 / secs,
        r.total_rows() as f64 / secs
    ));
    if !r.samples.is_empty() {
        s.push_str("  sample ids (legacy -> new):\n");
        for (t, legacy, id) in &r.samples {
            s.push_str(&format!("    {t:<12} {legacy:<24} -> {id}\n"));
        }
    }
    s
}
