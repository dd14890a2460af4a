//! `pgshred compile`: SQL files under `generated/<plan>/`, or a summary for a pull request.

use std::path::PathBuf;

use clap::Args;

use super::compile;
use crate::{Error, ExitCode, artifacts, codegen, validate};

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    /// Directory that holds one folder per plan [default: generated/ of the plan's project, the
    /// nearest folder above the plan holding one].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Instead of writing SQL, print a Markdown summary for a pull request: entities, the
    /// JSON path -> column table, a Mermaid ER diagram and risk notes.
    #[arg(long)]
    pub summary: bool,
}

pub fn run(args: CompileArgs) -> Result<ExitCode, Error> {
    match args {
        CompileArgs {
            plan,
            summary: true,
            ..
        } => {
            let p = validate::load_plan(&plan)?;
            crate::out!("{}", codegen::render_summary(&p)?);
            Ok(ExitCode::Ok)
        }
        CompileArgs { plan, out, .. } => {
            let (p, files) = compile(&plan)?;
            let dir = out
                .unwrap_or_else(|| super::paths::generated_dir(&plan))
                .join(&p.name);
            let summary = artifacts::write(&dir, files.files())?;
            crate::outln!("{summary}");
            Ok(ExitCode::Ok)
        }
    }
}
