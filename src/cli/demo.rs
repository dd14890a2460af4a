//! `pgshred demo`: the whole job against a throwaway PostgreSQL.

use std::path::PathBuf;

use clap::Args;

use crate::{Error, ExitCode};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The plan to run.
    #[arg(default_value = "plans/user_app_state.yaml")]
    pub plan: PathBuf,
    /// Source rows to load: a JSON array of {id, user_id, updated_at, state}.
    #[arg(long, default_value = "fixtures/sample_user_app_state.json")]
    pub input_file: PathBuf,
    /// Users per batch.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(i32).range(1..=100_000))]
    pub batch_size: i32,
}

pub fn run(args: DemoArgs) -> Result<ExitCode, Error> {
    let DemoArgs {
        plan,
        input_file,
        batch_size,
    } = args;
    // The defaults name the project's own files, found from wherever the demo is started.
    let plan = super::paths::project_file(&plan);
    let input_file = super::paths::project_file(&input_file);
    crate::demo::run(&plan, &input_file, batch_size)?;
    Ok(ExitCode::Ok)
}
