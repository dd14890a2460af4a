//! The error type of the library and the exit codes the CLI maps it to.

use std::fmt;
use std::path::PathBuf;

use crate::diagnostic::Diagnostics;

/// Documented exit codes (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    /// A check found a difference: stale generated SQL, a verification mismatch.
    CheckFailed = 1,
    /// Command-line usage error (clap's own code).
    Usage = 2,
    /// The plan or a mapping is invalid; diagnostics were printed.
    InvalidSpec = 3,
    /// Anything else: a file could not be read or written, a template failed.
    Failure = 4,
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
    /// An input file (documents, fixtures) is not what was expected.
    Input(String),
    /// A throwaway PostgreSQL cluster could not be started.
    Cluster(String),
    /// Verification found users whose rows do not match their documents.
    Verification(Vec<String>),
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Spec(_) => ExitCode::InvalidSpec,
            Error::Stale { .. } | Error::Verification(_) => ExitCode::CheckFailed,
            Error::Io { .. }
            | Error::Template(_)
            | Error::Database { .. }
            | Error::Input(_)
            | Error::Cluster(_) => ExitCode::Failure,
        }
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
                match source.as_db_error() {
                    // Keep what the server said: its code, message, detail and hint.
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
            Error::Input(msg) | Error::Cluster(msg) => f.write_str(msg),
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
