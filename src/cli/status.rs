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
    /// How to print it: readable lines, or one JSON object (runs, mappings, the batches of the
    /// run shown, quarantined users).
    #[arg(long, value_enum, default_value_t = super::Format::Human)]
    pub format: super::Format,
}

pub fn run(args: StatusArgs) -> Result<ExitCode, Error> {
    let StatusArgs {
        plan,
        db,
        run,
        format,
    } = args;
    let (p, files) = compile(&plan)?;
    let status = executor::status(&p, &files, &db.database_url, run)?;
    match format {
        super::Format::Json => crate::outln!("{}", status.json()),
        super::Format::Human => crate::out!("{}", status.text()),
    }
    Ok(ExitCode::Ok)
}
