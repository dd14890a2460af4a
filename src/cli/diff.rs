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
    /// Exit 1 when the compiled SQL changed, like `git diff --exit-code` (for CI gates).
    #[arg(long)]
    pub exit_code: bool,
}

pub fn run(args: DiffArgs) -> Result<ExitCode, Error> {
    let DiffArgs {
        plan,
        against,
        exit_code,
    } = args;
    let report = crate::revision::diff_against(&plan, &against)?;
    if report.is_empty() {
        crate::outln!("no change to the compiled SQL since {against}");
        return Ok(ExitCode::Ok);
    }
    crate::out!("{report}");
    Ok(if exit_code {
        ExitCode::CheckFailed
    } else {
        ExitCode::Ok
    })
}
