//! `pgshred verify`: counts per user and entity, and the round trip.

use std::path::PathBuf;

use clap::Args;

use super::{Database, Format, compile};
use crate::roundtrip::Class;
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
    /// With --roundtrip: fail on normalized differences too (a value stored in another spelling,
    /// a default filled in), not only on lost ones.
    #[arg(long, requires = "roundtrip")]
    pub strict: bool,
    /// How to print findings: lines, or one JSON object per finding (each round-trip difference
    /// with user, path, class, kind, source and rebuilt value) and a summary object.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(args: VerifyArgs) -> Result<ExitCode, Error> {
    let (p, files) = compile(&args.plan)?;
    let json = matches!(args.format, Format::Json);
    let check = executor::Check {
        roundtrip: args.roundtrip,
        user: args.user.as_deref(),
        strict: args.strict,
        json,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let v = executor::verify(&p, &files, &args.db.database_url, &check, &mut out)?;
    drop(out);
    if json {
        crate::outln!("{}", summary_json(&v));
    } else {
        crate::outln!("{}", summary(&p, &v, args.roundtrip));
    }
    Ok(if v.ok() {
        ExitCode::Ok
    } else {
        ExitCode::CheckFailed
    })
}

/// The last line: what matched, what did not, and the round trip counted by class and kind.
fn summary(p: &crate::ir::Plan, v: &executor::Verdict, roundtrip: bool) -> String {
    let mut counts = if v.count_mismatches.is_empty() {
        "row counts match for every user and entity".to_string()
    } else {
        format!("{} user/entity row counts differ", v.count_mismatches.len())
    };
    if !v.not_migrated.is_empty() {
        counts.push_str(&format!(
            "; {} users not migrated (pgshred apply PLAN migrates them)",
            v.not_migrated.len()
        ));
    }
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
    if !roundtrip {
        return counts;
    }
    let mut line = format!(
        "{counts}; round trip: {} users compared, {} lost something ({} lost, {} normalized, {} declared)",
        v.users_compared,
        v.users_differing,
        v.count(Class::Lost),
        v.count(Class::Normalized),
        v.count(Class::Declared)
    );
    for ((class, kind), n) in &v.by_kind {
        line.push_str(&format!("\n  {:<10} {kind}: {n}", class.name()));
    }
    line
}

fn summary_json(v: &executor::Verdict) -> serde_json::Value {
    let kinds: Vec<serde_json::Value> = v
        .by_kind
        .iter()
        .map(|((class, kind), n)| serde_json::json!({"class": class.name(), "kind": kind, "count": n}))
        .collect();
    serde_json::json!({
        "ok": v.ok(),
        "count_mismatches": v.count_mismatches.len(),
        "not_migrated": v.not_migrated.len(),
        "quarantined": v.quarantined.len(),
        "not_documents": v.not_documents.len(),
        "users_compared": v.users_compared,
        "users_differing": v.users_differing,
        "lost": v.count(Class::Lost),
        "normalized": v.count(Class::Normalized),
        "declared": v.count(Class::Declared),
        "kinds": kinds,
    })
}
