//! `pgshred check`: is `generated/` what the plan compiles to?

use std::path::PathBuf;

use clap::Args;

use super::compile;
use crate::{Error, ExitCode, artifacts};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    /// Directory that holds one folder per plan.
    #[arg(long, default_value = "generated")]
    pub out: PathBuf,
}

pub fn run(args: CheckArgs) -> Result<ExitCode, Error> {
    let CheckArgs { plan, out } = args;
    let (p, files) = compile(&plan)?;
    let dir = out.join(&p.name);
    artifacts::check(&dir, files.files())?;
    crate::outln!(
        "{}: up to date ({} files)",
        dir.display(),
        files.files().len()
    );
    Ok(ExitCode::Ok)
}
