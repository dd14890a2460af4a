//! `pgshred verify`: counts per user and entity, and the round trip.

use std::path::PathBuf;

use clap::Args;

use super::{Database, compile};
use crate::{Error, ExitCode, executor};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    #[command(flatten)]
    pub db: Database,
    /// Also compare documents, user by user.
    #[arg(long)]
    pub roundtrip: bool,
    /// Only this user.
    #[arg(long)]
    pub user: Option<String>,
}

pub fn run(args: VerifyArgs) -> Result<ExitCode, Error> {
    let VerifyArgs {
        plan,
        db,
        roundtrip,
        user,
    } = args;
    let (p, files) = compile(&plan)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let v = executor::verify(
        &p,
        &files,
        &db.database_url,
        roundtrip,
        user.as_deref(),
        &mut out,
    )?;
    let mut counts = if v.count_mismatches.is_empty() {
        "row counts match for every user and entity".to_string()
    } else {
        format!("{} user/entity row counts differ", v.count_mismatches.len())
    };
    if !v.quarantined.is_empty() {
        counts.push_str(&format!(
            "; {} quarantined users (fix their documents, then apply --retry-quarantined)",
            v.quarantined.len()
        ));
    }
    if !v.not_documents.is_empty() {
        counts.push_str(&format!(
            "; {} documents are not JSON objects and were not migrated",
            v.not_documents.len()
        ));
    }
    if p.source.not_a_document == crate::ir::NotADocument::Skip {
        counts.push_str(&format!(
        "; {} documents that are not JSON objects skipped by policy (source.not_a_document: skip)",
        v.skipped_documents
    ));
    }
    if roundtrip {
        crate::outln!(
            "{counts}; round trip: {} users compared, {} differ ({} differences)",
            v.users_compared,
            v.users_differing,
            v.differences
        );
    } else {
        crate::outln!("{counts}");
    }
    Ok(if v.ok() {
        ExitCode::Ok
    } else {
        ExitCode::CheckFailed
    })
}
