//! `pgshred restore`: a checked backup loaded into a new table.

use std::path::PathBuf;

use clap::Args;

use super::Database;
use crate::{Error, ExitCode, executor, validate};

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    #[command(flatten)]
    pub db: Database,
    /// The backup file (its manifest sits beside it).
    #[arg(long)]
    pub from: PathBuf,
    /// The table to create and fill, in the source's schema.
    #[arg(long)]
    pub into: String,
}

pub fn run(args: RestoreArgs) -> Result<ExitCode, Error> {
    let RestoreArgs {
        plan,
        db,
        from,
        into,
    } = args;
    let p = validate::load_plan(&plan)?;
    let n = executor::runbook::restore(&p, &db.database_url, &from, &into)?;
    crate::outln!(
        "checked {} against its manifest and restored {n} rows into {}.{into}",
        from.display(),
        p.source.schema
    );
    Ok(ExitCode::Ok)
}
