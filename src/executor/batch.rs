//! One batch, from claim to commit: the lifecycle every batch of a run goes through (apply's
//! workers, `--join`, `--user`), and the errors it ends with.
//!
//! claim (the next pending batch, locked in this transaction) -> begin (settings, the guard's
//! proof) -> run (the forward steps and the verification; with `--max-bad-users`, split under
//! savepoints down to the users at fault) -> finish (the ledger, in the same transaction) ->
//! commit. Anything that fails rolls the whole batch back, and it stays pending; how it failed is
//! put in words by `failure`.

use postgres::{Client, Transaction};

use super::context::Ctx;
use super::copy::prefetch::{Pipeline, Prepared};
use super::failure::{Problem, failure_from, failure_from_message};
use super::report::{BadUser, RowCounts};
use super::sql::{self, Batch};
use super::write_path::{Judgement, WritePath, set_batch_users};
use crate::Error;
use crate::error::BatchFailure;
use crate::failpoint::failpoint;
use crate::pg::Context;

/// Claims the next pending batch of the run and runs it, in one transaction; `None` when no batch
/// is left to claim. With `--max-bad-users`, a batch that fails on its data is split in halves, each
/// tried under its own savepoint, down to the single users to quarantine; the good parts and the
/// ledger entry still commit as one transaction, so a crash mid-way leaves the whole batch to redo.
pub(super) fn claim_and_run(
    client: &mut Client,
    ctx: Ctx,
    path: &dyn WritePath,
    run: i64,
    mut pipeline: Option<&mut Pipeline>,
) -> Result<Option<(Batch, RowCounts, Vec<BadUser>)>, Error> {
    let Ctx {
        q, opts, phases, ..
    } = ctx;
    let t = std::time::Instant::now();
    let preferred = pipeline.as_ref().and_then(|p| p.preferred());
    let others = pipeline.as_ref().map(|p| p.others()).unwrap_or_default();
    let (mut tx, b) = loop {
        match claim(client, q, run, preferred, &others)? {
            Some((tx, Some(b))) => break (tx, b),
            Some((_, None)) => return Ok(None),
            None => continue,
        }
    };
    let mut t = phases.lap("claim", t);
    // What was read ahead for this batch, and the next batch read ahead while this one writes.
    let mut prepared = None;
    if let Some(p) = pipeline.as_mut() {
        prepared = p.take(b.id);
        p.read_next(&mut tx, &q.a, run);
        t = phases.lap("wait for read-ahead", t);
    }
    failpoint("claimed", b.seq);
    let fail = |e: postgres::Error| Error::Batch(Box::new(failure_from(&e, run, &b)));
    let Steps { started, bad } = steps(&mut tx, ctx, path, run, &b, prepared, t)?;
    quarantine(&mut tx, q, run, &b, &bad, opts.batches.max_bad_users)?;
    let t = std::time::Instant::now();
    let rows = q.finish_batch(&mut tx, b.id, started).map_err(fail)?;
    failpoint("finished", b.seq);
    let t = phases.lap("ledger", t);
    tx.commit().map_err(fail)?;
    phases.lap("commit", t);
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

/// What the steps of a batch leave for its ending: when it started, as the server's clock has
/// it, and the users set aside with their problem (only with `--max-bad-users`).
pub(super) struct Steps {
    pub(super) started: std::time::SystemTime,
    pub(super) bad: Vec<(String, Problem)>,
}

/// The steps every batch goes through in its transaction, whether the run commits it or a dry
/// run rolls it back: the settings and the guard's proof, then the write path and the judge (with
/// `--max-bad-users`, split down to the users at fault). `t`: when the batch's current phase
/// began.
pub(super) fn steps(
    tx: &mut Transaction,
    ctx: Ctx,
    path: &dyn WritePath,
    run: i64,
    b: &Batch,
    prepared: Option<Prepared>,
    t: std::time::Instant,
) -> Result<Steps, Error> {
    let Ctx {
        opts,
        guard,
        phases,
        ..
    } = ctx;
    let fail = |e: postgres::Error| Error::Batch(Box::new(failure_from(&e, run, b)));
    let (started, proven) = begin(tx, ctx, run, b.id, &b.users).map_err(fail)?;
    if !proven {
        return Err(guard.lost(run));
    }
    phases.lap("begin", t);
    let mut bad = Vec::new();
    if opts.batches.max_bad_users == 0 {
        run_part(tx, ctx, path, b, prepared)
            .map_err(|e| Error::Batch(Box::new(e.into_failure(run, b))))?;
        failpoint("verified", b.seq);
    } else {
        isolate(tx, ctx, path, b, &b.users, &mut bad, prepared).map_err(fail)?;
    }
    Ok(Steps { started, bad })
}

/// Records the users `isolate` set aside; fails the batch when the run would then have more
/// than `max` of them.
fn quarantine(
    tx: &mut Transaction,
    q: &sql::Queries,
    run: i64,
    b: &Batch,
    bad: &[(String, Problem)],
    max: usize,
) -> Result<(), Error> {
    let fail = |e: postgres::Error| Error::Batch(Box::new(failure_from(&e, run, b)));
    for (user, problem) in bad {
        q.quarantine(tx, user, b.id, &problem.as_json())
            .map_err(fail)?;
    }
    if bad.is_empty() {
        return Ok(());
    }
    let total = q.quarantined_in_run(tx, run).map_err(fail)?;
    if total <= max as i64 {
        return Ok(());
    }
    Err(too_many_bad(Some(run), b, bad, max, total))
}

/// The failure of a batch whose bad users make more than `max` (`total`) in run `run`, or in a
/// dry run (`None`).
pub(super) fn too_many_bad(
    run: Option<i64>,
    b: &Batch,
    bad: &[(String, Problem)],
    max: usize,
    total: i64,
) -> Error {
    let (user, problem) = &bad[0];
    let (scope, hint) = match run {
        Some(run) => (
            format!("run {run}"),
            "this batch was rolled back; `pgshred status PLAN` lists the quarantined users. Fix the source or the mapping, or raise --max-bad-users, then continue with --resume --max-bad-users N",
        ),
        None => (
            "the dry run".to_string(),
            "fix the source or the mapping, or raise --max-bad-users",
        ),
    };
    Error::Batch(Box::new(BatchFailure {
        message: format!(
            "more than {max} bad users: batch {} would make {total} quarantined in {scope} (user {user}: {})",
            b.seq,
            problem.message,
            user = crate::ids::shown_user(user)
        ),
        hint: Some(hint.into()),
        detail: problem.detail.clone(),
        sqlstate: problem.sqlstate.clone(),
        dry_run: run.is_none(),
        ..failure_from_message(run.unwrap_or(0), b)
    }))
}

/// Starts a batch's transaction and claims the run's next pending batch in it; `Ok(None)` when
/// the claim must be tried again. The transaction is REPEATABLE READ so that every statement of
/// the batch (each entity's, and the verification) reads the documents as of one snapshot: at
/// READ COMMITTED a document the application updates mid-batch would give parents of one version
/// and children of the next. A claim that meets a batch another worker committed after this
/// snapshot was taken cannot lock it at this level (SQLSTATE 40001), so it is tried again.
pub(super) fn claim<'c>(
    client: &'c mut Client,
    q: &sql::Queries,
    run: i64,
    preferred: Option<i64>,
    others: &[i64],
) -> Result<Option<(Transaction<'c>, Option<Batch>)>, Error> {
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .start()
        .context("starting a batch")?;
    match q.claim_batch(&mut tx, run, preferred, others) {
        Ok(b) => Ok(Some((tx, b))),
        Err(Error::Database { source, .. })
            if source.code() == Some(&postgres::error::SqlState::T_R_SERIALIZATION_FAILURE) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Writes the batch users set in the transaction with the run's write path, then has
/// `04_verify.sql` judge what the tables hold against what the documents call for; returns the
/// judge's mismatches in words. Whatever writes the rows, the judge is the reviewed SQL, computed
/// from the source documents in this transaction, never the writer's own expectations.
pub(super) fn forward_and_verify(
    tx: &mut Transaction,
    ctx: Ctx,
    path: &dyn WritePath,
    b: &Batch,
    prepared: Option<Prepared>,
) -> Result<Vec<String>, Problem> {
    let judgements = path.write(tx, b, prepared)?;
    // A judgement of some users only sets them; the ledger then reads the batch's users again.
    let users = match judgements.iter().any(|j| j.users.is_some()) {
        true => Some(batch_users(tx).map_err(Problem::from_db)?),
        false => None,
    };
    let mut mismatches = Vec::new();
    for j in &judgements {
        mismatches.extend(verify(tx, ctx, j)?);
    }
    if let Some(users) = users {
        set_batch_users(tx, &users).map_err(Problem::from_db)?;
    }
    Ok(mismatches)
}

/// `04_verify.sql` for one judgement: per user and entity, the rows present against the rows
/// the documents call for; or, with counts (a --bulk batch, whose tables had no rows of its users
/// and whose user_id indexes are built after the last batch), per entity, against the rows each
/// entity's COPY wrote as the server counted them.
fn verify(tx: &mut Transaction, ctx: Ctx, j: &Judgement) -> Result<Vec<String>, Problem> {
    let t = std::time::Instant::now();
    if let Some(users) = &j.users {
        set_batch_users(tx, users).map_err(Problem::from_db)?;
    }
    if let Some(counts) = &j.counted {
        let counts = serde_json::to_string(counts).expect("a map of counts is JSON");
        tx.execute(
            "SELECT set_config('pgshred.batch_written', $1, true)",
            &[&counts],
        )
        .map_err(Problem::from_db)?;
    }
    let mismatches = super::judge::run_04_verify(tx, ctx.plan, ctx.files)
        .map_err(Problem::from_db)?
        .iter()
        .map(mismatch_line)
        .collect();
    if j.counted.is_some() {
        tx.execute("SELECT set_config('pgshred.batch_written', '', true)", &[])
            .map_err(Problem::from_db)?;
    }
    ctx.phases.lap("verify", t);
    Ok(mismatches)
}

/// The batch users set in the transaction.
fn batch_users(tx: &mut Transaction) -> Result<Vec<String>, postgres::Error> {
    let row = tx.query_one("SELECT current_setting('pgshred.batch_users')::text[]", &[])?;
    Ok(row.get(0))
}

/// `forward_and_verify`, with a mismatch as a problem of the data.
fn run_part(
    tx: &mut Transaction,
    ctx: Ctx,
    path: &dyn WritePath,
    b: &Batch,
    prepared: Option<Prepared>,
) -> Result<(), Problem> {
    let mismatches = forward_and_verify(tx, ctx, path, b, prepared)?;
    if mismatches.is_empty() {
        return Ok(());
    }
    // A bounded excerpt: a mapping bug can put every user of the batch in the list.
    const SHOWN: usize = 5;
    let more = match mismatches.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!("; and {n} more"),
    };
    Err(Problem {
        message: format!(
            "verification failed: {}{more}",
            mismatches[..mismatches.len().min(SHOWN)].join("; ")
        ),
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
    ctx: Ctx,
    path: &dyn WritePath,
    b: &Batch,
    users: &[String],
    bad: &mut Vec<(String, Problem)>,
    prepared: Option<Prepared>,
) -> Result<(), postgres::Error> {
    let mut part = tx.savepoint("pgshred_part")?;
    set_batch_users(&mut part, users)?;
    match run_part(&mut part, ctx, path, b, prepared) {
        Ok(()) => part.commit(),
        Err(p) if p.data => {
            part.rollback()?;
            if let [user] = users {
                bad.push((user.clone(), p));
                return Ok(());
            }
            let (left, right) = users.split_at(users.len() / 2);
            isolate(tx, ctx, path, b, left, bad, None)?;
            isolate(tx, ctx, path, b, right, bad, None)
        }
        Err(p) => {
            part.rollback()?;
            Err(p.source.expect("a non-data problem comes from the server"))
        }
    }
}

/// One row of 04_verify.sql (user, entity, expected, present) in words.
pub fn mismatch_line(r: &postgres::Row) -> String {
    let who = match r.get::<_, Option<String>>(0) {
        Some(user) => format!("user {}", crate::ids::shown_user(&user)),
        // A --bulk batch is judged per entity (see `verify`).
        None => "the batch's COPY of".to_string(),
    };
    format!(
        "{who} {}: {} rows expected, {} present",
        r.get::<_, String>(1),
        r.get::<_, i64>(2),
        r.get::<_, i64>(3)
    )
}

/// Sets the transaction-local settings a batch runs under and proves the plan's guard (see
/// [`guard`]); returns when the batch started, as the server's clock has it, and whether the
/// guard is proven (its lock still held, and the gate passed in a statement of its own). JIT is
/// off: compiling the long, nested expressions of the forward and verify statements costs far
/// more than it saves on a batch.
fn begin(
    tx: &mut Transaction,
    ctx: Ctx,
    run: i64,
    batch: i64,
    users: &[String],
) -> Result<(std::time::SystemTime, bool), postgres::Error> {
    let Ctx {
        plan, opts, guard, ..
    } = ctx;
    // The server keeps each foreign key check's plan for the life of the connection: planned
    // while the parent table was small (or analyzed empty), it scans the whole parent for every
    // row. Discarded here, the plans are made again each batch for the tables as they are now.
    tx.batch_execute("DISCARD PLANS")?;
    // The server writes the array literal, so no user id can break out of it.
    let row = tx.query_one(
        &format!(
            "SELECT clock_timestamp() AS started, set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true), \
                    set_config('pgshred.run_id', $3, true), set_config('pgshred.batch_id', $4, true), \
                    set_config('pgshred.batch_users', $5::text[]::text, true), set_config('jit', 'off', true), {}",
            guard.alive()
        ),
        &[
            &opts.batches.lock_timeout,
            &opts.batches.statement_timeout,
            &run.to_string(),
            &batch.to_string(),
            &users,
            &guard.plan,
            &sql::LOCK_CLASS,
            &guard.pid,
            &guard.started,
        ],
    )?;
    let proven = row.get::<_, bool>("guard_alive")
        && super::guard::Guard::pass_gate(tx, &plan.audit_schema, run)?;
    Ok((row.get("started"), proven))
}
