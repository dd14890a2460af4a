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
    /// Say what would be deleted, per table, and delete nothing (the rollback runs, with its
    /// checks, and is rolled back).
    #[arg(long)]
    pub dry_run: bool,
    /// Go on without asking. Without it, rollback asks on a terminal (showing what it would
    /// delete) and refuses where there is none.
    #[arg(long)]
    pub yes: bool,
    /// How to print the result: a line, or one JSON object (dry_run, rows per table, total,
    /// rows put back).
    #[arg(long, value_enum, default_value_t = super::Format::Human)]
    pub format: super::Format,
}

pub fn run(args: RollbackArgs) -> Result<ExitCode, Error> {
    let RollbackArgs {
        plan,
        db,
        run,
        batch,
        user,
        dry_run,
        yes,
        format,
    } = args;
    let json = matches!(format, super::Format::Json);
    let (p, files) = compile(&plan)?;
    let target = executor::RollbackTarget {
        run,
        batch,
        user,
        dry_run: true,
    };
    if dry_run || !yes {
        let would = executor::rollback(&p, &files, &db.database_url, &target)?;
        let (total, parts) = counted(&p, &would);
        if dry_run {
            if json {
                crate::outln!("{}", result_json(true, &would));
            } else {
                crate::outln!("would roll back {total} rows ({parts}); nothing was deleted");
            }
            return Ok(ExitCode::Ok);
        }
        super::confirm(&format!("rollback deletes {total} rows ({parts})"), yes)?;
    }
    let target = executor::RollbackTarget {
        dry_run: false,
        ..target
    };
    let done = executor::rollback(&p, &files, &db.database_url, &target)?;
    let (total, parts) = counted(&p, &done);
    if json {
        crate::outln!("{}", result_json(false, &done));
        return Ok(ExitCode::Ok);
    }
    crate::outln!(
        "rolled back {total} rows ({parts}); {}",
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

/// Rows in all and per table, in the plan's order.
fn counted(p: &crate::ir::Plan, done: &executor::RolledBack) -> (i64, String) {
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
    (total, parts.join(", "))
}

/// The result as one JSON object, for scripts.
fn result_json(dry_run: bool, done: &executor::RolledBack) -> serde_json::Value {
    serde_json::json!({
        "dry_run": dry_run,
        "rows": done.removed,
        "total_rows": done.removed.values().sum::<i64>(),
        "restored": done.restored,
    })
}
