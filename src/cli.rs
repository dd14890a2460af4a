//! Command-line interface: clap definitions and dispatch. Each command calls into the library and
//! maps the outcome to an [`ExitCode`].

use std::io::Write;
use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::spec::schema::SCHEMA_TEXT;
use crate::{Error, ExitCode, artifacts, codegen, executor, preview, validate};

/// Compile a declarative JSONB-to-tables migration plan into reviewable SQL.
///
/// A plan (plans/*.yaml) names the source table holding one JSONB document per user and the entity
/// mappings (mappings/*.yaml) that say how each array in the document becomes a table. pgshred
/// validates them, compiles them to deterministic SQL under generated/<plan>/ for review, and
/// checks that the committed SQL is up to date.
///
/// Exit codes: 0 success; 1 a check failed (stale generated SQL, a verification mismatch); 2 usage
/// error; 3 invalid plan or mapping (every problem is printed with file:line:column); 4 any other
/// failure (a file, the database); 5 refused by a precondition before anything was written (lock
/// held, duplicate source rows, missing tables, row-level security, changed SQL under a run);
/// 6 a batch failed and was rolled back (earlier batches stay; continue with --resume).
#[derive(Debug, Parser)]
#[command(name = "pgshred", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Readable text with source excerpts.
    Human,
    /// One JSON object per line, for editors and CI annotations.
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    /// The combined schema: a plan when the file has a `plan` key, otherwise a mapping.
    All,
    Plan,
    Mapping,
}

/// Where the target database is.
#[derive(Debug, Args)]
pub struct Database {
    /// Connection string (postgres://user:pass@host:5432/db?sslmode=verify-full&sslrootcert=ca.pem,
    /// or key=value form). sslmode: disable, prefer (default), require, verify-ca, verify-full. The
    /// password is never printed.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a plan and its mapping files; print every problem with file:line:column and a hint.
    ///
    /// Mapping paths in the plan are resolved relative to the plan file. Exits 3 when anything is
    /// wrong, 0 otherwise.
    Validate {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        /// How to print problems.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print the JSON Schema of the spec format, for editor completion and checking.
    ///
    /// With the YAML language server, add `# yaml-language-server: $schema=<path>` at the top of a
    /// plan or mapping file, pointing at the saved output.
    Schema {
        /// Which part of the schema to print.
        #[arg(long, value_enum, default_value_t = SchemaKind::All)]
        kind: SchemaKind,
    },
    /// Compile a plan to SQL files under <OUT>/<plan>/ (one file per concern, each with a header
    /// that says what it does and how to run it by hand).
    ///
    /// Output is byte-for-byte deterministic, so it can be committed and reviewed in pull requests.
    /// Files of the plan's directory that pgshred no longer generates are removed.
    Compile {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        /// Directory that holds one folder per plan.
        #[arg(long, default_value = "generated")]
        out: PathBuf,
        /// Instead of writing SQL, print a Markdown summary for a pull request: entities, the
        /// JSON path -> column table, a Mermaid ER diagram and risk notes.
        #[arg(long)]
        summary: bool,
    },
    /// Run the whole job against a throwaway local PostgreSQL: nothing to set up by hand.
    ///
    /// Starts a temporary cluster from the machine's PostgreSQL binaries (initdb into a temp
    /// directory, loopback only; as the `postgres` user when run as root), loads the sample
    /// documents, applies the compiled plan batch by batch (forward + verify, one transaction per
    /// batch), verifies every user, rolls the last batch back exactly, prints what happened and
    /// removes the cluster. Binaries are found on PATH, in /usr/lib/postgresql/*/bin, or in
    /// $PGSHRED_PG_BIN.
    Demo {
        /// The plan to run.
        #[arg(default_value = "plans/user_app_state.yaml")]
        plan: PathBuf,
        /// Source rows to load: a JSON array of {id, user_id, updated_at, state}.
        #[arg(long, default_value = "fixtures/sample_user_app_state.json")]
        input_file: PathBuf,
        /// Users per batch.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(i32).range(1..=100_000))]
        batch_size: i32,
    },
    /// Apply the plan to DATABASE_URL, batch by batch: one transaction per batch (forward, audit,
    /// verify), progress kept in the ledger tables of the audit schema.
    ///
    /// Before the first write it checks that the source table and columns exist, that no user has
    /// two source rows, that the target tables exist and that the role can write past row-level
    /// security, and takes an advisory lock so no other pgshred applies the same plan. A failing
    /// batch is rolled back whole and the error names the user, entity, JSON path and value; earlier
    /// batches stay committed, and --resume continues the run. Without --limit or --user, every user
    /// not yet migrated is taken, in user id order.
    ///
    /// After the plan changed: users already migrated get entities added since (a backfill);
    /// a changed mapping is refused unless --remap names it; --sync also re-migrates users whose
    /// source row changed or disappeared. `pgshred status` shows per entity who has which version.
    Apply {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        #[command(flatten)]
        db: Database,
        /// Users per batch, 1 to 100000 (default: the plan's batch.size).
        #[arg(long, value_parser = clap::value_parser!(i32).range(1..=100_000))]
        batch_size: Option<i32>,
        /// At most this many users in all: the next ones not yet migrated.
        #[arg(long, conflicts_with = "user")]
        limit: Option<usize>,
        /// Only this user (repeatable), migrated or not.
        #[arg(long)]
        user: Vec<String>,
        /// Run every batch and roll it back: counts and sample ids, nothing kept.
        #[arg(long, conflicts_with = "resume")]
        dry_run: bool,
        /// Continue the last unfinished run, skipping its finished batches.
        #[arg(long)]
        resume: bool,
        /// Apply 01_schema.sql and 02_audit.sql first (idempotent).
        #[arg(long)]
        create_schema: bool,
        /// Migrate the newest row of users with several source rows instead of refusing.
        #[arg(long)]
        allow_duplicates: bool,
        /// Worker connections running batches in parallel (each batch still one transaction).
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Help another pgshred (on this or another machine) with its unfinished run: claim its
        /// pending batches without planning a run. Batches commit only while the process holding
        /// the plan's lock lives; with no such process, the joiner takes the lock and leads.
        #[arg(long, conflicts_with_all = ["dry_run", "limit", "user", "create_schema"])]
        join: bool,
        /// lock_timeout inside each batch (default: the plan's batch.lock_timeout).
        #[arg(long)]
        lock_timeout: Option<String>,
        /// statement_timeout inside each batch (default: the plan's batch.statement_timeout).
        #[arg(long)]
        statement_timeout: Option<String>,
        /// Keep going past users whose documents cannot be migrated: a failing batch is split
        /// until the bad users are found; they are quarantined (no rows, listed by `status`) and
        /// the others migrated. The run stops once more than N users are quarantined. 0 (the
        /// default) stops at the first failing batch.
        #[arg(long, default_value_t = 0, value_name = "N")]
        max_bad_users: usize,
        /// Take the quarantined users again (and only them), after fixing their source rows or
        /// the mapping; those that migrate leave the quarantine.
        #[arg(long, conflicts_with_all = ["user", "resume", "join"])]
        retry_quarantined: bool,
        /// Re-migrate ENTITY (and every entity below it) for the users migrated with an older
        /// version of its mapping: per batch, their rows are replaced in the batch's transaction;
        /// rolling the batch back restores the old rows. Without it, apply refuses to run when a
        /// mapping changed after users were migrated with it. Repeatable.
        #[arg(long, value_name = "ENTITY", conflicts_with_all = ["user", "resume", "join", "retry_quarantined"])]
        remap: Vec<String>,
        /// Also re-migrate the users whose source row changed since they were migrated (a newer
        /// source.order_column, e.g. updated_at) or disappeared: their rows are replaced, per
        /// batch, so the tables equal a fresh migration of the current documents. Repeat until
        /// cutover; the last sync plus `pgshred verify` is the cutover check.
        #[arg(long, conflicts_with_all = ["user", "resume", "join", "retry_quarantined"])]
        sync: bool,
    },
    /// Preview what the plan writes, with no database: rows with their new ids and parent ids, and a
    /// lint report of what in the data would stop a batch.
    ///
    /// Reads a JSON array or JSON lines of {user_id, updated_at, state} (what backup.sql exports),
    /// one row at a time, or the source table with --database-url. The ids are the ones the
    /// database will generate. Lint: keys neither mapped nor dropped, values that will not convert,
    /// orphans, duplicate legacy ids, missing required values and ids, duplicate users. Exits 1
    /// when a batch would fail.
    #[command(group(ArgGroup::new("source").required(true).args(["input_file", "database_url"])))]
    Preview {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        /// Source rows: a JSON array or JSON lines.
        #[arg(long)]
        input_file: Option<PathBuf>,
        /// Read the source table instead (with --limit); the password is never printed.
        #[arg(long)]
        database_url: Option<String>,
        /// At most this many source rows from the database, in user order.
        #[arg(long, requires = "database_url")]
        limit: Option<i64>,
        /// Show the rows of this user only.
        #[arg(long)]
        user: Option<String>,
        /// human: counts, lint and (with --user) rows; json: one line per row and finding, then a summary.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Write N realistic users as JSON lines (the backup format), deterministically, for benchmarks.
    ///
    /// Per user: 1-3 orgs, 2-6 personas, 5-40 contents (bodies of 200-2000 characters), 1-4
    /// accounts, 0-20 leads, 0-10 references, 0-30 inbox items; about --messy-percent of users have
    /// a value that stops their batch. The same seed gives the same bytes.
    Generate {
        #[arg(long)]
        users: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 1.0)]
        messy_percent: f64,
    },
    /// Check the migrated tables against the source: rows per user and entity, and with
    /// --roundtrip every user's document rebuilt from the tables (06_reconstruct.sql) compared with
    /// the source, each difference a JSON path with both values. Dropped keys and what the
    /// mapping's policies leave out are not differences. Exits 1 when anything differs.
    Verify {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        #[command(flatten)]
        db: Database,
        /// Also compare documents, user by user.
        #[arg(long)]
        roundtrip: bool,
        /// Only this user.
        #[arg(long)]
        user: Option<String>,
    },
    /// Back up the source table: one JSON line per row (every column), in user order, streamed,
    /// with FILE.manifest.json (rows, sha256, when taken, newest change).
    Backup {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        #[command(flatten)]
        db: Database,
        /// The backup file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Load a backup into a new table shaped like the source, after checking it against its
    /// manifest; one transaction.
    Restore {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        #[command(flatten)]
        db: Database,
        /// The backup file (its manifest sits beside it).
        #[arg(long)]
        from: PathBuf,
        /// The table to create and fill, in the source's schema.
        #[arg(long)]
        into: String,
    },
    /// Users with several source rows: --review lists them; --apply keeps the newest row of each
    /// (in one transaction) and lists what it deleted, only with a backup newer than the last
    /// change to the source.
    #[command(group(ArgGroup::new("mode").required(true).args(["review", "apply"])))]
    Dedupe {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        #[command(flatten)]
        db: Database,
        #[arg(long)]
        review: bool,
        #[arg(long, requires = "backup")]
        apply: bool,
        /// A backup taken with `pgshred backup` since the source last changed.
        #[arg(long)]
        backup: Option<PathBuf>,
    },
    /// List the runs of a plan and the batches of one run (the newest by default).
    Status {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        #[command(flatten)]
        db: Database,
        /// Show the batches of this run.
        #[arg(long)]
        run: Option<i64>,
    },
    /// Remove exactly what the audit says a run, batch or user created, children first, in one
    /// transaction, and check that none of it remains. Options narrow each other down.
    #[command(group(ArgGroup::new("what").required(true).multiple(true).args(["run", "batch", "user"])))]
    Rollback {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        #[command(flatten)]
        db: Database,
        /// Everything a run created (ids as `pgshred status` shows them); marks the run rolled back.
        #[arg(long)]
        run: Option<i64>,
        /// Everything one batch created; its users become eligible for the next apply.
        #[arg(long)]
        batch: Option<i64>,
        /// Everything created for one user.
        #[arg(long)]
        user: Option<String>,
    },
    /// Show what a change to the plan or its mappings does to the compiled SQL: the plan compiled
    /// at git revision REV against the plan in the working tree, as a unified diff per file.
    Diff {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        /// A git revision: a branch, tag or commit (e.g. origin/main).
        #[arg(long)]
        against: String,
    },
    /// Recompile in memory and compare with <OUT>/<plan>/; print a unified diff and exit 1 if stale.
    Check {
        /// The plan file, e.g. plans/user_app_state.yaml.
        plan: PathBuf,
        /// Directory that holds one folder per plan.
        #[arg(long, default_value = "generated")]
        out: PathBuf,
    },
}

/// The plan at `path`, validated and compiled: the step every command that uses SQL starts with.
fn compile(path: &std::path::Path) -> Result<(crate::ir::Plan, crate::compiled::Compiled), Error> {
    let plan = validate::load_plan(path)?;
    let compiled = codegen::compile(&plan)?;
    Ok((plan, compiled))
}

/// Runs the CLI with the process arguments and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Ok
            };
        }
    };
    match run(cli.command) {
        Ok(code) => code,
        // `pgshred generate | head` is not a failure.
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::Ok
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{}", e.to_string().trim_end());
            e.exit_code()
        }
    }
}

fn run(command: Command) -> Result<ExitCode, Error> {
    match command {
        Command::Validate { plan, format } => match validate::load_plan(&plan) {
            Ok(p) => {
                let n = p.entities.len();
                match format {
                    Format::Human => crate::outln!(
                        "{}: ok, plan `{}` with {n} entities: {}",
                        plan.display(),
                        p.name,
                        p.entities
                            .iter()
                            .map(|e| e.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Format::Json => crate::outln!(
                        "{}",
                        serde_json::json!({"ok": true, "plan": p.name, "entities": n})
                    ),
                }
                Ok(ExitCode::Ok)
            }
            Err(Error::Spec(diags)) if matches!(format, Format::Json) => {
                for d in &diags.items {
                    crate::outln!(
                        "{}",
                        serde_json::json!({
                            "code": d.code,
                            "file": d.file.display().to_string(),
                            "line": d.pos.map(|p| p.line),
                            "column": d.pos.map(|p| p.column),
                            "message": d.message,
                            "hint": d.hint,
                        })
                    );
                }
                Ok(ExitCode::InvalidSpec)
            }
            Err(e) => Err(e),
        },
        Command::Schema { kind } => {
            let text = match kind {
                SchemaKind::All => SCHEMA_TEXT.to_string(),
                SchemaKind::Plan | SchemaKind::Mapping => {
                    let root: serde_json::Value =
                        serde_json::from_str(SCHEMA_TEXT).expect("shipped schema is JSON");
                    let def = if matches!(kind, SchemaKind::Plan) {
                        "plan"
                    } else {
                        "mapping"
                    };
                    let one = serde_json::json!({
                        "$schema": root["$schema"],
                        "$ref": format!("#/$defs/{def}"),
                        "$defs": root["$defs"],
                    });
                    serde_json::to_string_pretty(&one).expect("JSON value serializes") + "\n"
                }
            };
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| Error::io("writing to stdout", e))?;
            Ok(ExitCode::Ok)
        }
        Command::Compile {
            plan,
            summary: true,
            ..
        } => {
            let p = validate::load_plan(&plan)?;
            crate::out!("{}", codegen::render_summary(&p)?);
            Ok(ExitCode::Ok)
        }
        Command::Compile { plan, out, .. } => {
            let (p, files) = compile(&plan)?;
            let dir = out.join(&p.name);
            let summary = artifacts::write(&dir, files.files())?;
            crate::outln!("{summary}");
            Ok(ExitCode::Ok)
        }
        Command::Demo {
            plan,
            input_file,
            batch_size,
        } => {
            crate::demo::run(&plan, &input_file, batch_size)?;
            Ok(ExitCode::Ok)
        }
        Command::Apply {
            plan,
            db,
            batch_size,
            limit,
            user,
            dry_run,
            resume,
            create_schema,
            allow_duplicates,
            jobs,
            join,
            lock_timeout,
            statement_timeout,
            max_bad_users,
            retry_quarantined,
            remap,
            sync,
        } => {
            let (p, files) = compile(&plan)?;
            let opts = executor::ApplyOptions {
                max_bad_users,
                retry_quarantined,
                remap,
                sync,
                // The plan's size is 1 to 100000 (its JSON Schema says so).
                batch_size: batch_size.unwrap_or(p.batch.size as i32),
                limit,
                users: user,
                dry_run,
                resume,
                create_schema,
                allow_duplicates,
                jobs,
                join,
                lock_timeout: lock_timeout.unwrap_or_else(|| p.batch.lock_timeout.clone()),
                statement_timeout: statement_timeout
                    .unwrap_or_else(|| p.batch.statement_timeout.clone()),
            };
            let mut reporter = executor::for_terminal();
            let report = executor::apply(&p, &files, &db.database_url, &opts, reporter.as_mut())?;
            crate::out!("{}", executor::render_report(&p, &report));
            Ok(ExitCode::Ok)
        }
        Command::Preview {
            plan,
            input_file,
            database_url,
            limit,
            user,
            format,
        } => {
            let p = validate::load_plan(&plan)?;
            let source = match (&input_file, &database_url) {
                (Some(f), _) => preview::Source::File(f),
                (None, Some(url)) => preview::Source::Database { url, limit },
                (None, None) => unreachable!("clap requires one source"),
            };
            let format = match format {
                Format::Human => preview::Format::Human,
                Format::Json => preview::Format::Json,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let summary = preview::run(&p, source, format, user.as_deref(), &mut out)?;
            out.flush()
                .map_err(|e| Error::io("writing the preview", e))?;
            Ok(if summary.aborts() > 0 {
                ExitCode::CheckFailed
            } else {
                ExitCode::Ok
            })
        }
        Command::Generate {
            users,
            seed,
            messy_percent,
        } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            crate::generate::write(&mut out, users, seed, messy_percent)
                .and_then(|()| out.flush())
                .map_err(|e| Error::io("writing generated users", e))?;
            Ok(ExitCode::Ok)
        }
        Command::Verify {
            plan,
            db,
            roundtrip,
            user,
        } => {
            let (p, files) = compile(&plan)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let v = executor::verify(
                &p,
                &files,
                &db.database_url,
                roundtrip,
                user.as_deref(),
                &mut out,
            )?;
            let mut counts = if v.count_mismatches.is_empty() {
                "row counts match for every user and entity".to_string()
            } else {
                format!("{} user/entity row counts differ", v.count_mismatches.len())
            };
            if !v.quarantined.is_empty() {
                counts.push_str(&format!(
                    "; {} quarantined users (fix their documents, then apply --retry-quarantined)",
                    v.quarantined.len()
                ));
            }
            if !v.not_documents.is_empty() {
                counts.push_str(&format!(
                    "; {} documents are not JSON objects and were not migrated",
                    v.not_documents.len()
                ));
            }
            if p.source.not_a_document == crate::ir::NotADocument::Skip {
                counts.push_str(&format!(
                    "; {} documents that are not JSON objects skipped by policy (source.not_a_document: skip)",
                    v.skipped_documents
                ));
            }
            if roundtrip {
                crate::outln!(
                    "{counts}; round trip: {} users compared, {} differ ({} differences)",
                    v.users_compared,
                    v.users_differing,
                    v.differences
                );
            } else {
                crate::outln!("{counts}");
            }
            Ok(if v.ok() {
                ExitCode::Ok
            } else {
                ExitCode::CheckFailed
            })
        }
        Command::Backup { plan, db, out } => {
            let p = validate::load_plan(&plan)?;
            let m = executor::runbook::backup(&p, &db.database_url, &out)?;
            crate::outln!(
                "backed up {} rows of {} to {} (sha256 {}); manifest {}",
                m["rows"],
                m["source"].as_str().unwrap_or("?"),
                out.display(),
                m["sha256"].as_str().unwrap_or("?"),
                executor::runbook::manifest_path(&out).display()
            );
            Ok(ExitCode::Ok)
        }
        Command::Restore {
            plan,
            db,
            from,
            into,
        } => {
            let p = validate::load_plan(&plan)?;
            let n = executor::runbook::restore(&p, &db.database_url, &from, &into)?;
            crate::outln!(
                "checked {} against its manifest and restored {n} rows into {}.{into}",
                from.display(),
                p.source.schema
            );
            Ok(ExitCode::Ok)
        }
        Command::Dedupe {
            plan,
            db,
            apply,
            backup,
            ..
        } => {
            let p = validate::load_plan(&plan)?;
            match (apply, backup) {
                (true, Some(b)) => {
                    let deleted = executor::runbook::dedupe_apply(&p, &db.database_url, &b)?;
                    for (u, at) in &deleted {
                        crate::outln!("deleted the row of {u} from {at}");
                    }
                    crate::outln!(
                        "deleted {} older rows; every user now has one row",
                        deleted.len()
                    );
                }
                _ => {
                    let users = executor::runbook::dedupe_review(&p, &db.database_url)?;
                    for (u, n, newest) in &users {
                        crate::outln!("{u}: {n} rows, newest {newest}");
                    }
                    crate::outln!("{} users have more than one row", users.len());
                }
            }
            Ok(ExitCode::Ok)
        }
        Command::Status { plan, db, run } => {
            let (p, files) = compile(&plan)?;
            crate::out!("{}", executor::status(&p, &files, &db.database_url, run)?);
            Ok(ExitCode::Ok)
        }
        Command::Rollback {
            plan,
            db,
            run,
            batch,
            user,
        } => {
            let (p, files) = compile(&plan)?;
            let target = executor::RollbackTarget { run, batch, user };
            let done = executor::rollback(&p, &files, &db.database_url, &target)?;
            let removed = &done.removed;
            let total: i64 = removed.values().sum();
            let parts: Vec<String> = p
                .entities
                .iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        removed.get(&e.table).copied().unwrap_or(0),
                        e.table
                    )
                })
                .collect();
            crate::outln!(
                "rolled back {total} rows ({}); {}",
                parts.join(", "),
                if done.restored > 0 {
                    format!(
                        "the {} rows they had replaced (apply --sync or --remap) are back as they were",
                        done.restored
                    )
                } else {
                    "none of them remains".to_string()
                }
            );
            Ok(ExitCode::Ok)
        }
        Command::Diff { plan, against } => {
            let report = crate::revision::diff_against(&plan, &against)?;
            if report.is_empty() {
                crate::outln!("no change to the compiled SQL since {against}");
            } else {
                crate::out!("{report}");
            }
            Ok(ExitCode::Ok)
        }
        Command::Check { plan, out } => {
            let (p, files) = compile(&plan)?;
            let dir = out.join(&p.name);
            artifacts::check(&dir, files.files())?;
            crate::outln!(
                "{}: up to date ({} files)",
                dir.display(),
                files.files().len()
            );
            Ok(ExitCode::Ok)
        }
    }
}
