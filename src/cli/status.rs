//! `pgshred status`: runs, batches, mapping versions and quarantined users.

use std::path::PathBuf;

use clap::Args;

use super::{Database, compile};
use crate::{Error, ExitCode, executor};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    #[command(flatten)]
    pub db: Database,
    /// Show the batches of this run.
    #[arg(long)]
    pub run: Option<i64>,
}

pub fn run(args: StatusArgs) -> Result<ExitCode, Error> {
    let StatusArgs { plan, db, run } = args;
    let (p, files) = compile(&plan)?;
    crate::out!("{}", executor::status(&p, &files, &db.database_url, run)?);
    Ok(ExitCode::Ok)
}
