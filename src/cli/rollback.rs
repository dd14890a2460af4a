//! `pgshred rollback`: exactly what runs, batches or users created, removed.

use std::path::PathBuf;

use clap::{ArgGroup, Args};

use super::{Database, compile};
use crate::{Error, ExitCode, executor};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).multiple(true).args(["run", "batch", "user"])))]
pub struct RollbackArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    #[command(flatten)]
    pub db: Database,
    /// Everything a run created (ids as `pgshred status` shows them); marks the run rolled back.
    #[arg(long)]
    pub run: Option<i64>,
    /// Everything one batch created; its users become eligible for the next apply.
    #[arg(long)]
    pub batch: Option<i64>,
    /// Everything created for one user.
    #[arg(long)]
    pub user: Option<String>,
}

pub fn run(args: RollbackArgs) -> Result<ExitCode, Error> {
    let RollbackArgs {
        plan,
        db,
        run,
        batch,
        user,
    } = args;
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
