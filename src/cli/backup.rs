//! `pgshred backup`: the source table to JSON lines, with a manifest.

use std::path::PathBuf;

use clap::Args;

use super::Database;
use crate::{Error, ExitCode, executor, validate};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    #[command(flatten)]
    pub db: Database,
    /// The backup file to write.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: BackupArgs) -> Result<ExitCode, Error> {
    let BackupArgs { plan, db, out } = args;
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
