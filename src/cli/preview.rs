//! `pgshred preview`: the mapping evaluated offline, with its findings.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{ArgGroup, Args};

use super::Format;
use crate::{Error, ExitCode, preview, validate};

#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("source")
        .required(true)
        .multiple(true)
        .args(["input_file", "database_url"])
))]
pub struct PreviewArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    /// Source rows: a JSON array or JSON lines. Wins over --database-url and DATABASE_URL.
    #[arg(long)]
    pub input_file: Option<PathBuf>,
    /// Read the source table instead (with --limit); the password is never printed.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// At most this many source rows from the database, in user order.
    #[arg(long, requires = "database_url")]
    pub limit: Option<i64>,
    /// Show the rows of this user only.
    #[arg(long)]
    pub user: Option<String>,
    /// human: counts, lint and (with --user) rows; json: one line per row and finding, then a summary.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(args: PreviewArgs) -> Result<ExitCode, Error> {
    let PreviewArgs {
        plan,
        input_file,
        database_url,
        limit,
        user,
        format,
    } = args;
    let p = validate::load_plan(&plan)?;
    let source = match (&input_file, &database_url) {
        (Some(f), _) => preview::Source::File(f),
        (None, Some(url)) => preview::Source::Database { url, limit },
        (None, None) => unreachable!("clap requires one source"),
    };
    let format = match format {
        Format::Human => preview::Format::Human,
        Format::Json => preview::Format::Json,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let summary = preview::run(&p, source, format, user.as_deref(), &mut out)?;
    out.flush()
        .map_err(|e| Error::io("writing the preview", e))?;
    Ok(if summary.aborts() > 0 {
        ExitCode::CheckFailed
    } else {
        ExitCode::Ok
    })
}
