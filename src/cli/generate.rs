//! `pgshred generate`: realistic source rows for benchmarks.

use std::io::Write as _;

use clap::Args;

use crate::{Error, ExitCode};

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[arg(long)]
    pub users: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 1.0)]
    pub messy_percent: f64,
}

pub fn run(args: GenerateArgs) -> Result<ExitCode, Error> {
    let GenerateArgs {
        users,
        seed,
        messy_percent,
    } = args;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    crate::generate::write(&mut out, users, seed, messy_percent)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("writing generated users", e))?;
    Ok(ExitCode::Ok)
}
