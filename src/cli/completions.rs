//! `pgshred completions SHELL`: the shell's completion script for every command and option.

use clap::{Args, CommandFactory};

use crate::{Error, ExitCode};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: CompletionsArgs) -> Result<ExitCode, Error> {
    let mut cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "pgshred", &mut out);
    crate::out!("{}", String::from_utf8_lossy(&out));
    Ok(ExitCode::Ok)
}
