//! `pgshred dedupe`: users with several source rows, listed or reduced to the newest.

use std::path::PathBuf;

use clap::{ArgGroup, Args};

use super::Database;
use crate::{Error, ExitCode, executor, validate};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("mode").required(true).args(["review", "apply"])))]
pub struct DedupeArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    #[command(flatten)]
    pub db: Database,
    /// List the users with several source rows, each with its row count and newest row; changes
    /// nothing.
    #[arg(long)]
    pub review: bool,
    /// Delete all but the newest row of each such user, in one transaction, under lock_timeout,
    /// listing what was deleted; needs --backup.
    #[arg(long, requires = "backup")]
    pub apply: bool,
    /// A backup taken with `pgshred backup` since the source last changed.
    #[arg(long)]
    pub backup: Option<PathBuf>,
    /// With --apply, go on without asking. Without it, --apply asks on a terminal and refuses
    /// where there is none; --review shows what it would delete.
    #[arg(long)]
    pub yes: bool,
}

pub fn run(args: DedupeArgs) -> Result<ExitCode, Error> {
    let DedupeArgs {
        plan,
        db,
        apply,
        backup,
        yes,
        ..
    } = args;
    let p = validate::load_plan(&plan)?;
    match (apply, backup) {
        (true, Some(b)) => {
            if !yes {
                let users = executor::runbook::dedupe_review(&p, &db.database_url)?;
                let older: i64 = users.iter().map(|(_, n, _)| n - 1).sum();
                super::confirm(
                    &format!(
                        "dedupe deletes {} of {}",
                        crate::stdout::plural(
                            older as usize,
                            "older source row",
                            "older source rows"
                        ),
                        crate::stdout::plural(users.len(), "user", "users")
                    ),
                    yes,
                )?;
            }
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
