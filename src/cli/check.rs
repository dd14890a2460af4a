//! `pgshred check`: is `generated/` what the plan compiles to?

use std::path::PathBuf;

use clap::Args;

use super::compile;
use crate::{Error, ExitCode, artifacts};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    /// Directory that holds one folder per plan [default: generated/ of the plan's project, the
    /// nearest folder above the plan holding one].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: CheckArgs) -> Result<ExitCode, Error> {
    let CheckArgs { plan, out } = args;
    let (p, files) = compile(&plan)?;
    let dir = out
        .unwrap_or_else(|| super::paths::generated_dir(&plan))
        .join(&p.name);
    artifacts::check(&dir, files.files())?;
    crate::outln!(
        "{}: up to date ({} files)",
        dir.display(),
        files.files().len()
    );
    Ok(ExitCode::Ok)
}
