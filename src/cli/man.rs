//! `pgshred man`: the manual page (roff), written from the same definitions as `--help`.

use clap::{Args, CommandFactory};

use crate::{Error, ExitCode};

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command into this directory (pgshred.1, pgshred-apply.1, ...) instead
    /// of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

pub fn run(args: ManArgs) -> Result<ExitCode, Error> {
    let cmd = super::Cli::command();
    let Some(dir) = args.out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut page)
            .map_err(|e| Error::io("rendering the man page", e))?;
        crate::out!("{}", String::from_utf8_lossy(&page));
        return Ok(ExitCode::Ok);
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    clap_mangen::generate_to(cmd, &dir)
        .map_err(|e| Error::io(format!("writing man pages to {}", dir.display()), e))?;
    Ok(ExitCode::Ok)
}
