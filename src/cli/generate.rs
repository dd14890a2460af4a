//! `pgshred generate`: realistic source rows for benchmarks.

use std::io::Write as _;

use clap::Args;

use crate::generate::Shape;
use crate::{Error, ExitCode};

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many users (one JSON line each) to write to stdout.
    #[arg(long)]
    pub users: u64,
    /// Seed of the generator: the same seed and options give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of users, 0 to 100, given a value that stops their batch (a text where a number
    /// belongs), to exercise failures and quarantine.
    #[arg(long, default_value_t = 1.0, value_parser = percent)]
    pub messy_percent: f64,
    /// Whose documents: the shipped plan's (user_app_state) or an example plan's (kanban,
    /// refman, outliner), to load and migrate with plans/<shape>.yaml.
    #[arg(long, value_enum, default_value_t = Shape::UserAppState)]
    pub shape: Shape,
}

fn percent(s: &str) -> Result<f64, String> {
    let p: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=100.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is not a percentage between 0 and 100"))
    }
}

pub fn run(args: GenerateArgs) -> Result<ExitCode, Error> {
    let GenerateArgs {
        users,
        seed,
        messy_percent,
        shape,
    } = args;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    crate::generate::write(&mut out, shape, users, seed, messy_percent)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("writing generated users", e))?;
    Ok(ExitCode::Ok)
}
