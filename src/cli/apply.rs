//! `pgshred apply`: the options, as the executor takes them.

use std::path::PathBuf;

use clap::Args;

use super::{Database, compile};
use crate::{Error, ExitCode, executor};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    #[command(flatten)]
    pub db: Database,
    /// Users per batch, 1 to 100000 (default: the plan's batch.size).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=100_000))]
    pub batch_size: Option<i32>,
    /// At most this many users in all: the next ones not yet migrated.
    #[arg(long, conflicts_with = "user")]
    pub limit: Option<usize>,
    /// Only this user (repeatable), migrated or not.
    #[arg(long)]
    pub user: Vec<String>,
    /// Run every batch and roll it back: counts, sample ids and (with --max-bad-users) the users a
    /// real run would quarantine; nothing kept. A failing batch exits 6, as in a real run.
    #[arg(long, conflicts_with = "resume")]
    pub dry_run: bool,
    /// Continue the last unfinished run, skipping its finished batches.
    #[arg(long)]
    pub resume: bool,
    /// Apply 01_schema.sql and 02_audit.sql first (idempotent).
    #[arg(long)]
    pub create_schema: bool,
    /// Migrate the newest row of users with several source rows instead of refusing.
    #[arg(long)]
    pub allow_duplicates: bool,
    /// Worker connections running batches in parallel (each batch still one transaction), 1 to
    /// 64. Each worker of the COPY path opens a second connection to read ahead.
    #[arg(long, default_value_t = 1, value_parser = jobs)]
    pub jobs: usize,
    /// Write at most ROWS rows per second over the run (all workers together): after a batch
    /// commits, workers wait until the rows written so far fit the rate. Protects a primary
    /// and its replicas during a long backfill.
    #[arg(long, value_name = "ROWS", value_parser = positive_rate)]
    pub max_rate: Option<f64>,
    /// Wait this long after each batch commits before claiming the next (e.g. 500ms, 2s, 1min).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub pause_between: Option<std::time::Duration>,
    /// Claim no batch while a standby replays more than DURATION behind this server (the
    /// largest replay_lag in pg_stat_replication; e.g. 5s). Workers wait, and the progress
    /// line says which standby and how far behind. Needs the pg_monitor role. A standby
    /// reports its position every wal_receiver_status_interval (10s by default), so a lag
    /// is seen, and seen to end, that much late.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub max_replica_lag: Option<std::time::Duration>,
    /// Help another pgshred (on this or another machine) with its unfinished run: claim its
    /// pending batches without planning a run. Batches commit only while the process holding
    /// the plan's lock lives; with no such process, the joiner takes the lock and leads, as
    /// --resume would (so the two are not given together). On Citus, a joiner may connect to
    /// any node (the lock lives on the coordinator, which alone leads; docs/citus.md).
    #[arg(long, conflicts_with_all = ["dry_run", "resume", "limit", "user", "create_schema"])]
    pub join: bool,
    /// lock_timeout inside each batch (default: the plan's batch.lock_timeout).
    #[arg(long)]
    pub lock_timeout: Option<String>,
    /// statement_timeout inside each batch (default: the plan's batch.statement_timeout).
    #[arg(long)]
    pub statement_timeout: Option<String>,
    /// Keep going past users whose documents cannot be migrated: a failing batch is split
    /// until the bad users are found; they are quarantined (no rows, listed by `status`) and
    /// the others migrated. The run stops once more than N users are quarantined. 0 (the
    /// default) stops at the first failing batch.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_bad_users: usize,
    /// Take the quarantined users again (and only them), after fixing their source rows or
    /// the mapping; those that migrate leave the quarantine.
    #[arg(long, conflicts_with_all = ["user", "resume", "join"])]
    pub retry_quarantined: bool,
    /// Re-migrate ENTITY (and every entity below it) for the users migrated with an older
    /// version of its mapping: per batch, their rows are replaced in the batch's transaction;
    /// rolling the batch back restores the old rows. Without it, apply refuses to run when a
    /// mapping changed after users were migrated with it. Repeatable.
    #[arg(long, value_name = "ENTITY", conflicts_with_all = ["user", "resume", "join", "retry_quarantined"])]
    pub remap: Vec<String>,
    /// Also re-migrate the users whose source row changed since they were migrated (a newer
    /// source.order_column, e.g. updated_at) or disappeared: their rows are replaced, per
    /// batch, so the tables equal a fresh migration of the current documents. Repeat until
    /// cutover; the last sync plus `pgshred verify` is the cutover check.
    #[arg(long, conflicts_with_all = ["user", "resume", "join", "retry_quarantined"])]
    pub sync: bool,
    /// How rows are written: `copy` (the default) evaluates the documents in pgshred, the way
    /// `preview` does, and streams the rows with binary COPY; `sql` runs exactly the reviewed
    /// 03_forward.sql in the server. Whichever writes them, each batch is proven before it
    /// commits by 04_verify.sql, which recomputes from the source documents the rows each user
    /// must have; a mismatch rolls the batch back. A document over 2 MB of text is shredded by
    /// 03_forward.sql in the server either way. On Citus (`target.layout.distribute_by`) both
    /// run; `sql` sends the batch's settings on to the workers with SET LOCAL.
    #[arg(long, value_enum)]
    pub engine: Option<Engine>,
    /// An initial load into empty target tables, at the speed of the server's COPY: their
    /// secondary indexes, unique keys and foreign keys are recorded in the ledger and dropped
    /// before the first batch, the rows written with `--engine copy`, and everything restored
    /// after the last batch, foreign keys validated. Each batch is proven by 04_verify.sql per
    /// entity: the rows the documents call for against the rows its COPY wrote, as the server
    /// counted them (the user_id indexes that a per-user check reads are deferred too).
    /// Until then the application sees the tables without those indexes and keys. A crash at
    /// any point continues with --resume; `status` says what is still deferred.
    #[arg(long, conflicts_with_all = ["dry_run", "resume", "join", "user", "sync", "remap", "retry_quarantined"])]
    pub bulk: bool,
    /// How to print the final summary on stdout: readable lines, or one JSON object (run,
    /// batches, users, rows per table, quarantined users, seconds). Progress goes to stderr
    /// either way.
    #[arg(long, value_enum, default_value_t = super::Format::Human)]
    pub format: super::Format,
}

pub fn run(args: ApplyArgs) -> Result<ExitCode, Error> {
    if args.bulk && args.engine == Some(Engine::Sql) {
        return Err(Error::Usage(
            "--bulk writes with --engine copy: 03_forward.sql needs the unique keys that --bulk defers"
                .into(),
        ));
    }
    let (p, files) = compile(&args.plan)?;
    let url = args.db.database_url.clone();
    let json = matches!(args.format, super::Format::Json);
    let opts = args.options(&p);
    executor::signals::install();
    let mut reporter = executor::for_terminal();
    let report = executor::apply(&p, &files, &url, &opts, reporter.as_mut())?;
    if json {
        crate::outln!("{}", report_json(&report));
    } else {
        crate::out!("{}", executor::render_report(&p, &report));
    }
    Ok(ExitCode::Ok)
}

/// The summary as one JSON object, for scripts.
fn report_json(r: &executor::Report) -> serde_json::Value {
    serde_json::json!({
        "run": r.run,
        "dry_run": r.dry_run,
        "batches": r.batches,
        "users": r.users,
        "rows": r.rows,
        "total_rows": r.total_rows(),
        "quarantined": r.quarantined.iter().map(|b| serde_json::json!({"user_id": b.user, "error": b.message})).collect::<Vec<_>>(),
        "seconds": r.elapsed.as_secs_f64(),
        "phases": r.phases.iter().map(|(p, d)| (p.clone(), serde_json::json!(d.as_secs_f64()))).collect::<serde_json::Map<_, _>>(),
    })
}

impl ApplyArgs {
    /// The options as the executor takes them, the plan's batch settings filling in.
    fn options(self, p: &crate::ir::Plan) -> executor::ApplyOptions {
        use executor::{Scope, Start, Writer};
        // clap's conflicts keep out what the types below cannot hold (--user with --limit,
        // --resume with --dry-run, --remap with --retry-quarantined, ...).
        let scope = if !self.user.is_empty() {
            Scope::Users(self.user)
        } else if self.retry_quarantined {
            Scope::Quarantined { limit: self.limit }
        } else {
            Scope::Next {
                limit: self.limit,
                rework: executor::Rework {
                    remap: self.remap,
                    sync: self.sync,
                },
            }
        };
        executor::ApplyOptions {
            start: if self.join {
                Start::Join
            } else if self.resume {
                Start::Resume
            } else if self.dry_run {
                Start::DryRun(scope)
            } else {
                Start::New(scope)
            },
            writer: match (self.bulk, self.engine.unwrap_or_default()) {
                (true, _) => Writer::Bulk,
                (false, Engine::Copy) => Writer::Copy,
                (false, Engine::Sql) => Writer::Sql,
            },
            batches: executor::Batches {
                // The plan's size is 1 to 100000 (its JSON Schema says so).
                size: self.batch_size.unwrap_or(p.batch.size as i32),
                lock_timeout: self
                    .lock_timeout
                    .unwrap_or_else(|| p.batch.lock_timeout.clone()),
                statement_timeout: self
                    .statement_timeout
                    .unwrap_or_else(|| p.batch.statement_timeout.clone()),
                max_bad_users: self.max_bad_users,
            },
            pace: executor::Pace {
                jobs: self.jobs,
                max_rate: self.max_rate,
                pause_between: self.pause_between,
                max_replica_lag: self.max_replica_lag,
            },
            create_schema: self.create_schema,
            allow_duplicates: self.allow_duplicates,
        }
    }
}

/// `--engine`: which writer a batch uses (`--bulk` is the COPY writer into deferred tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Engine {
    Sql,
    #[default]
    Copy,
}

fn positive_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err(format!("{s} is not a number of rows per second above 0")),
    }
}

/// `500ms`, `2s`, `1.5s`, `1min`: what `--pause-between` and `--max-replica-lag` take.
fn duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("{s} is not a duration such as 500ms, 2s or 1min"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "min" => n * 60.0,
        _ => return Err(format!("{s}: the unit is ms, s or min")),
    };
    if secs.is_finite() && secs >= 0.0 {
        Ok(std::time::Duration::from_secs_f64(secs))
    } else {
        Err(format!("{s} is not a duration such as 500ms, 2s or 1min"))
    }
}

/// Workers, 1 to [`MAX_JOBS`]: each holds up to two connections and a batch in memory, and more
/// of them than the server has cores only queue behind each other.
fn jobs(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of workers"))?;
    if (1..=MAX_JOBS).contains(&n) {
        Ok(n)
    } else {
        Err(format!("workers are 1 to {MAX_JOBS}, not {n}"))
    }
}

/// The most workers one `apply` runs; `--join` from other processes adds more.
pub const MAX_JOBS: usize = 64;
