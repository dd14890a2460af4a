//! Command-line interface: clap definitions and dispatch. Each command calls into the library and
//! maps the outcome to an [`ExitCode`].

mod apply;
mod backup;
mod check;
mod compile;
mod completions;
mod dedupe;
mod demo;
mod diff;
mod generate;
mod init;
mod man;
mod paths;
mod preview;
mod restore;
mod rollback;
mod schema;
mod status;
mod validate;
mod verify;

use std::io::Write;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{Error, ExitCode, codegen};

/// Examples shown after the long help.
const EXAMPLES: &str = "\
Examples:
  pgshred demo                                           # the whole job on a throwaway database
  pgshred init --input-file backup.jsonl --out drafts/app # a plan drafted from the documents
  pgshred validate plans/user_app_state.yaml             # every problem, file:line:column
  pgshred compile plans/user_app_state.yaml              # generated/user_app_state/*.sql
  pgshred preview plans/user_app_state.yaml --input-file backup.jsonl
  export DATABASE_URL=postgres://user@host/db
  pgshred apply plans/user_app_state.yaml --dry-run --create-schema
  pgshred apply plans/user_app_state.yaml --create-schema --limit 5
  pgshred verify plans/user_app_state.yaml --roundtrip
  pgshred status plans/user_app_state.yaml
  pgshred rollback plans/user_app_state.yaml --run 3 --dry-run";

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
/// held, duplicate source rows, missing tables, row-level security, changed SQL under a run, a
/// rollback of a run that does not exist, a rollback or dedupe --apply not confirmed); 6 a batch
/// failed and was rolled back (earlier batches stay; continue with --resume); 7 the run stopped
/// when the session holding its lock ended (continue with --resume); 8 apply stopped by
/// SIGINT/SIGTERM after the batches in flight (continue with --resume); 130 a second signal aborted
/// it at once.
#[derive(Debug, Parser)]
#[command(name = "pgshred", version, max_term_width = 100, after_long_help = EXAMPLES)]
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
    Validate(validate::ValidateArgs),
    /// Print the JSON Schema of the spec format, for editor completion and checking.
    ///
    /// With the YAML language server, add `# yaml-language-server: $schema=<path>` at the top of a
    /// plan or mapping file, pointing at the saved output.
    Schema(schema::SchemaArgs),
    /// Compile a plan to SQL files under <OUT>/<plan>/ (one file per concern, each with a header
    /// that says what it does and how to run it by hand).
    ///
    /// Output is byte-for-byte deterministic, so it can be committed and reviewed in pull requests.
    /// Files of the plan's directory that pgshred no longer generates are removed.
    Compile(compile::CompileArgs),
    /// Run the whole job against a throwaway local PostgreSQL: nothing to set up by hand.
    ///
    /// Starts a temporary cluster from the machine's PostgreSQL binaries (initdb into a temp
    /// directory, loopback only; as the `postgres` user when run as root), loads the sample
    /// documents, applies the compiled plan batch by batch (forward + verify, one transaction per
    /// batch), verifies every user, rolls the last batch back exactly, prints what happened and
    /// removes the cluster. Binaries are found on PATH, in /usr/lib/postgresql/*/bin, or in
    /// $PGSHRED_PG_BIN.
    Demo(demo::DemoArgs),
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
    Apply(apply::ApplyArgs),
    /// Preview what the plan writes, with no database: rows with their new ids and parent ids, and a
    /// lint report of what in the data would stop a batch.
    ///
    /// Reads a JSON array or JSON lines of source rows (what `backup` and backup.sql write: each
    /// an object of the source's columns; {user_id, updated_at, state} is read too), one at a
    /// time, or the source table with --database-url. The ids are the ones the database will
    /// generate. Lint: keys neither mapped nor dropped, values that will not convert,
    /// orphans, duplicate legacy ids, missing required values and ids, duplicate users. Exits 1
    /// when a batch would fail.
    Preview(preview::PreviewArgs),
    /// Draft a plan and one mapping per entity from the documents themselves, for review.
    ///
    /// Reads the documents twice, one at a time (memory stays flat): first what every place in
    /// them holds, then which fields name other entities' elements. Writes <OUT>/<NAME>.yaml and
    /// <OUT>/mappings/<entity>.yaml, every decision commented with what was seen: entities for
    /// arrays of objects, objects keyed by id, lists of scalars, one-to-one objects, the root and
    /// trees; each legacy id with its evidence (or the position); parents, references and link
    /// tables with the share of values that resolve; the narrowest column type holding every value,
    /// with what a narrower one would refuse. Every key is a column or kept in `extra`. When
    /// <OUT> holds the plan already (edited or not), nothing is written: what the documents add
    /// to it (new keys, new arrays, a type that no longer holds) is printed as a patch.
    Init(init::InitArgs),
    /// Write N realistic users as JSON lines (the backup format), deterministically, for benchmarks.
    ///
    /// In the shipped plan's shape by default (per user: 1-3 orgs, 2-6 personas, 5-40 contents of
    /// 200-2000 characters, 1-4 accounts, 0-20 leads, 0-10 references, 0-30 inbox items), or an
    /// example plan's with --shape; about --messy-percent of users have a value that stops their
    /// batch. The same seed gives the same bytes.
    Generate(generate::GenerateArgs),
    /// Check the migrated tables against the source: rows per user and entity, and with
    /// --roundtrip every user's document rebuilt from the tables (06_reconstruct.sql) compared with
    /// the source, each difference a JSON path with both values. Dropped keys and what the
    /// mapping's policies leave out are not differences. Exits 1 when anything differs.
    Verify(verify::VerifyArgs),
    /// Back up the source table: one JSON line per row (every column), in user order, streamed,
    /// with FILE.manifest.json (rows, sha256, when taken, newest change).
    Backup(backup::BackupArgs),
    /// Load a backup into a new table shaped like the source, after checking it against its
    /// manifest; one transaction.
    Restore(restore::RestoreArgs),
    /// Users with several source rows: --review lists them; --apply keeps the newest row of each
    /// (in one transaction) and lists what it deleted, only with a backup newer than the last
    /// change to the source.
    Dedupe(dedupe::DedupeArgs),
    /// List the runs of a plan and the batches of one run (the newest by default).
    Status(status::StatusArgs),
    /// Remove exactly what the audit says a run, batch or user created, children first, in one
    /// transaction, and check that none of it remains. Options narrow each other down.
    Rollback(rollback::RollbackArgs),
    /// Show what a change to the plan or its mappings does to the compiled SQL: the plan compiled
    /// at git revision REV against the plan in the working tree, as a unified diff per file.
    Diff(diff::DiffArgs),
    /// Recompile in memory and compare with <OUT>/<plan>/; print a unified diff and exit 1 if stale.
    Check(check::CheckArgs),
    /// Print the completion script of a shell: `pgshred completions bash > /etc/bash_completion.d/pgshred`,
    /// or for zsh into a directory of $fpath as `_pgshred`.
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff): `pgshred man | man -l -`; `--out DIR` writes one page per
    /// command, to install under a man1 directory.
    Man(man::ManArgs),
}

/// Asks before a command deletes rows: on a terminal, the operator types `yes`; without one
/// (a script, CI) only `--yes` lets it go on, so nothing is deleted by a command run by mistake.
pub(crate) fn confirm(what: &str, yes: bool) -> Result<(), Error> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::refused(
            format!(
                "{what}: not confirmed, and there is no terminal to ask on; nothing was changed"
            ),
            "pass --yes to go on without asking (after --dry-run, where the command has one, shows what it would do)",
        ));
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{what}. Type yes to go on: ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("reading the answer", e))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::refused(
            format!("{what}: not confirmed; nothing was changed"),
            "type yes to go on, or pass --yes",
        ))
    }
}

/// The plan at `path`, validated and compiled: the step every command that uses SQL starts with.
fn compile(path: &std::path::Path) -> Result<(crate::ir::Plan, crate::compiled::Compiled), Error> {
    let plan = crate::validate::load_plan(path)?;
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
        Command::Validate(args) => validate::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Compile(args) => compile::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Preview(args) => preview::run(args),
        Command::Init(args) => init::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Backup(args) => backup::run(args),
        Command::Restore(args) => restore::run(args),
        Command::Dedupe(args) => dedupe::run(args),
        Command::Status(args) => status::run(args),
        Command::Rollback(args) => rollback::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Check(args) => check::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// `--help` answers questions: every option of every command says what it does.
    #[test]
    fn every_option_has_help() {
        let cli = Cli::command();
        let mut bare = Vec::new();
        for cmd in cli.get_subcommands() {
            assert!(
                cmd.get_about().is_some(),
                "{} has no description",
                cmd.get_name()
            );
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    bare.push(format!("{} --{id}", cmd.get_name()));
                }
            }
        }
        assert!(bare.is_empty(), "options without help: {bare:?}");
        assert!(cli.get_after_long_help().is_some(), "no examples");
    }
}
