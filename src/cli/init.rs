//! `pgshred init`: a plan and its mappings drafted from the documents.

use std::path::PathBuf;

use clap::{ArgGroup, Args};

use crate::{Error, ExitCode, init, validate};

#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("documents")
        .required(true)
        .args(["input_file", "database_url"])
))]
pub struct InitArgs {
    /// Documents to draft from: JSON lines or a JSON array of {user_id, updated_at, state} rows
    /// (what `pgshred backup` writes), or of plain documents.
    #[arg(long)]
    pub input_file: Option<PathBuf>,
    /// Read the source table instead (--table, --key-column, --document-column, --order-column);
    /// the password is never printed.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// With --database-url: the newest document of this many users, spread over the key space.
    #[arg(long, default_value_t = 1000, requires = "database_url")]
    pub sample: i64,
    /// Where the plan (<NAME>.yaml) and its mappings (mappings/<entity>.yaml) go.
    #[arg(long)]
    pub out: PathBuf,
    /// The plan's name, which is also its target schema.
    #[arg(long, default_value = "app")]
    pub name: String,
    /// The source table's schema.
    #[arg(long, default_value = "public")]
    pub schema: String,
    /// The source table: one row per user (the newest by --order-column wins).
    #[arg(long, default_value = "user_app_state")]
    pub table: String,
    /// Its column holding the user id.
    #[arg(long, default_value = "user_id")]
    pub key_column: String,
    /// Its jsonb column holding the document.
    #[arg(long, default_value = "state")]
    pub document_column: String,
    /// Its column ordering a user's rows.
    #[arg(long, default_value = "updated_at")]
    pub order_column: String,
}

pub fn run(args: InitArgs) -> Result<ExitCode, Error> {
    let source = init::Source {
        schema: args.schema,
        table: args.table,
        key_column: args.key_column,
        document_column: args.document_column,
        order_column: args.order_column,
    };
    let input = match (&args.input_file, &args.database_url) {
        (Some(f), _) => init::Input::File(f),
        (None, Some(url)) => init::Input::Database {
            url,
            sample: args.sample,
        },
        (None, None) => unreachable!("clap requires one source"),
    };
    let outcome = init::run(&args.name, input, &source, &args.out)?;
    if let Some(patch) = outcome.patch {
        if patch.is_empty() {
            eprintln!(
                "pgshred: the plan in {} reads all that these {} documents hold: nothing to change",
                args.out.display(),
                outcome.documents
            );
        } else {
            eprintln!(
                "pgshred: {out} holds the plan already; what these {} documents add to it, as a \
                 patch (nothing was written; review it, then apply it with `patch -p1 -d {out}`):",
                outcome.documents,
                out = args.out.display(),
            );
            crate::out!("{patch}");
        }
        return Ok(ExitCode::Ok);
    }
    let plan = args.out.join(format!("{}.yaml", args.name));
    eprintln!(
        "pgshred: {} entities drafted from {} documents",
        outcome.entities, outcome.documents
    );
    for f in &outcome.written {
        crate::outln!("{}", f.display());
    }
    // A draft that does not validate is pgshred's bug, said as such.
    validate::load_plan(&plan).map_err(|e| {
        Error::Input(format!(
            "the draft {} does not validate (a bug in init; please report it): {e}",
            plan.display()
        ))
    })?;
    eprintln!(
        "pgshred: next: review the comments, then `pgshred validate {p}` and `pgshred preview {p} --input-file ...`",
        p = plan.display()
    );
    Ok(ExitCode::Ok)
}
