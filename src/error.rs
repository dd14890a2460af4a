//! The error type of the library and the exit codes the CLI maps it to.

use std::fmt;
use std::path::PathBuf;

use crate::diagnostic::Diagnostics;

/// Documented exit codes (docs/cli.md, "Exit codes", and `pgshred --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    /// A check found a difference: stale generated SQL, a verification mismatch.
    CheckFailed = 1,
    /// Command-line usage error (clap's own code).
    Usage = 2,
    /// The plan or a mapping is invalid; diagnostics were printed.
    InvalidSpec = 3,
    /// Anything else: a file could not be read or written, the database could not be reached.
    Failure = 4,
    /// A precondition refused the run before anything was written (lock held, duplicate source
    /// rows, missing tables, row-level security, a changed plan under an unfinished run).
    Refused = 5,
    /// A batch failed (bad value, orphan, verification) and was rolled back; earlier batches stay.
    BatchFailed = 6,
    /// The run stopped before its end and can be resumed: the plan's guard was lost.
    Stopped = 7,
    /// SIGINT or SIGTERM stopped the run between batches; `apply --resume` continues it.
    Interrupted = 8,
}

/// Why a batch was rolled back, with what the server said.
#[derive(Debug, Clone)]
pub struct BatchFailure {
    pub run: i64,
    pub batch: i64,
    pub seq: i32,
    pub users: Vec<String>,
    /// Batches of the run already committed before this one.
    pub committed: usize,
    pub message: String,
    /// The facts pgshred's SQL attaches to data errors (user, entity, legacy id, path, value).
    pub detail: Option<serde_json::Value>,
    pub hint: Option<String>,
    pub sqlstate: Option<String>,
    /// A batch of `apply --dry-run`: nothing of the run was ever kept.
    pub dry_run: bool,
}

#[derive(Debug)]
pub enum Error {
    /// Problems in the user's spec files, all of them.
    Spec(Diagnostics),
    /// A file system operation failed.
    Io {
        context: String,
        source: std::io::Error,
    },
    /// Rendering a template failed (a bug in pgshred's templates).
    Template(String),
    /// `check` found generated files that differ from a fresh compile.
    Stale { dir: PathBuf, report: String },
    /// A database operation failed; `context` says what pgshred was doing.
    Database {
        context: String,
        source: postgres::Error,
    },
    /// The database could not be reached (the password is never part of `target` or `message`).
    Connect { target: String, message: String },
    /// An input file, URL or option is not what was expected.
    Input(String),
    /// Options that cannot be given together, in a way the argument parser cannot tell (exit 2,
    /// as the parser's own refusals).
    Usage(String),
    /// A throwaway PostgreSQL cluster could not be started.
    Cluster(String),
    /// Verification found users whose rows do not match their documents.
    Verification(Vec<String>),
    /// A precondition refused the operation before anything was written.
    Refused { message: String, hint: String },
    /// A batch failed and was rolled back.
    Batch(Box<BatchFailure>),
    /// The session holding the plan's guard ended while a run was writing: no batch commits
    /// without it, so the run stopped.
    GuardLost { plan: String, run: i64, pid: i32 },
    /// A signal stopped the run between batches.
    Interrupted {
        plan: String,
        run: i64,
        done: i64,
        batches: i64,
        /// Indexes and keys a --bulk run still has to restore (0: it stopped between batches).
        deferred: usize,
    },
}

impl Error {
    /// A run that stopped before its end, resumable: why, and how to go on.
    fn write_stopped(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::GuardLost { plan, run, pid } => write!(
                f,
                "stopped: the session holding plan {plan}'s lock (backend pid {pid}) ended while run {run} was writing \
                 (terminated, restarted, or dropped by a pooler or the network); no batch commits without it, so \
                 nothing was written after it ended\n  hint: batches committed before stay; `pgshred status PLAN` \
                 shows them. Continue with `pgshred apply PLAN --resume`, or undo the run with \
                 `pgshred rollback PLAN --run {run}`"
            ),
            Error::Interrupted {
                plan,
                run,
                deferred: left @ 1..,
                ..
            } => write!(
                f,
                "stopped by a signal while restoring what --bulk deferred: run {run} of plan {plan} has every batch committed, {left} indexes and keys still to restore, and is recorded as stopped; the restore in flight finished\n  hint: continue with `pgshred apply PLAN --resume`, which restores the rest, or undo the run with `pgshred rollback PLAN --run {run}`"
            ),
            Error::Interrupted {
                plan,
                run,
                done,
                batches,
                ..
            } => write!(
                f,
                "stopped by a signal: run {run} of plan {plan} has {done} of {batches} batches committed and is recorded as stopped; the batches in flight finished or rolled back whole\n  hint: continue with `pgshred apply PLAN --resume`, or undo the run with `pgshred rollback PLAN --run {run}`"
            ),
            _ => Ok(()),
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn refused(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Refused {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Spec(_) => ExitCode::InvalidSpec,
            Error::Stale { .. } | Error::Verification(_) => ExitCode::CheckFailed,
            Error::Refused { .. } => ExitCode::Refused,
            Error::Batch(_) => ExitCode::BatchFailed,
            Error::GuardLost { .. } => ExitCode::Stopped,
            Error::Interrupted { .. } => ExitCode::Interrupted,
            Error::Usage(_) => ExitCode::Usage,
            Error::Io { .. }
            | Error::Template(_)
            | Error::Database { .. }
            | Error::Connect { .. }
            | Error::Input(_)
            | Error::Cluster(_) => ExitCode::Failure,
        }
    }
}

/// What the server said: message, SQLSTATE, detail, hint.
fn write_db_error(f: &mut fmt::Formatter<'_>, source: &postgres::Error) -> fmt::Result {
    match source.as_db_error() {
        Some(db) => {
            write!(f, "{} [SQLSTATE {}]", db.message(), db.code().code())?;
            if let Some(d) = db.detail() {
                write!(f, "\n  detail: {d}")?;
            }
            if let Some(h) = db.hint() {
                write!(f, "\n  hint: {h}")?;
            }
            Ok(())
        }
        None => write!(f, "{source}"),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Spec(d) => f.write_str(&d.render()),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Template(e) => write!(
                f,
                "rendering SQL failed (a bug in pgshred, please report it): {e}"
            ),
            Error::Stale { dir, report } => write!(
                f,
                "{report}generated SQL in {} is stale; run `pgshred compile` and commit the result",
                dir.display()
            ),
            Error::Database { context, source } => {
                write!(f, "{context}: ")?;
                write_db_error(f, source)
            }
            Error::Connect { target, message } => {
                write!(f, "cannot connect to {target}: {message}")
            }
            Error::Input(msg) | Error::Usage(msg) | Error::Cluster(msg) => f.write_str(msg),
            Error::Verification(lines) => {
                writeln!(
                    f,
                    "verification failed for {} user/entity pairs:",
                    lines.len()
                )?;
                for l in lines {
                    writeln!(f, "  {l}")?;
                }
                Ok(())
            }
            Error::Refused { message, hint } => write!(f, "refused: {message}\n  hint: {hint}"),
            Error::GuardLost { .. } | Error::Interrupted { .. } => self.write_stopped(f),
            Error::Batch(b) => {
                let shown: Vec<_> = b
                    .users
                    .iter()
                    .take(10)
                    .map(|u| crate::ids::shown_user(u))
                    .collect();
                let users = if b.users.len() > 10 {
                    format!("{}, ... ({} users)", shown.join(", "), b.users.len())
                } else {
                    shown.join(", ")
                };
                if b.dry_run {
                    writeln!(f, "batch {} of the dry run failed; users: {users}", b.seq)?;
                } else {
                    writeln!(
                        f,
                        "batch {} (seq {}) of run {} failed and was rolled back; users: {users}",
                        b.batch, b.seq, b.run
                    )?;
                }
                write!(f, "  error: {}", b.message)?;
                if let Some(code) = &b.sqlstate {
                    write!(f, " [SQLSTATE {code}]")?;
                }
                // pgshred's own errors already name user, entity, legacy id, path and value in the
                // message (and as JSON in `detail`, kept in the ledger); other server errors may
                // carry a plain-text detail worth showing.
                if let Some(serde_json::Value::String(d)) = &b.detail {
                    write!(f, "\n  detail: {d}")?;
                }
                if let Some(h) = &b.hint {
                    write!(f, "\n  hint: {h}")?;
                }
                if b.dry_run {
                    return write!(
                        f,
                        "\n  the dry run wrote nothing; `--dry-run --max-bad-users N` rehearses setting such users aside"
                    );
                }
                write!(
                    f,
                    "\n  {} earlier batch{} of this run stay committed; after fixing, continue with `pgshred apply PLAN --resume`",
                    b.committed,
                    if b.committed == 1 { "" } else { "es" }
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Database { source, .. } => Some(source),
            _ => None,
        }
    }
}
