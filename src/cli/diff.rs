//! `pgshred diff`: what a mapping change does to the SQL and to data already migrated.

use std::path::PathBuf;

use clap::Args;

use crate::{Error, ExitCode};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    /// A git revision: a branch, tag or commit (e.g. origin/main).
    #[arg(long)]
    pub against: String,
}

pub fn run(args: DiffArgs) -> Result<ExitCode, Error> {
    let DiffArgs { plan, against } = args;
    let report = crate::revision::diff_against(&plan, &against)?;
    if report.is_empty() {
        crate::outln!("no change to the compiled SQL since {against}");
    } else {
        crate::out!("{report}");
    }
    Ok(ExitCode::Ok)
}
