//! `pgshred validate`: every problem of a plan and its mappings, located.

use std::path::PathBuf;

use clap::Args;

use super::Format;
use crate::{Error, ExitCode, validate};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The plan file, e.g. plans/user_app_state.yaml.
    pub plan: PathBuf,
    /// How to print problems.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(args: ValidateArgs) -> Result<ExitCode, Error> {
    let ValidateArgs { plan, format } = args;
    match validate::load_plan(&plan) {
        Ok(p) => {
            let n = p.entities.len();
            match format {
                Format::Human => crate::outln!(
                    "{}: ok, plan `{}` with {n} entities: {}",
                    plan.display(),
                    p.name,
                    p.entities
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Format::Json => crate::outln!(
                    "{}",
                    serde_json::json!({"ok": true, "plan": p.name, "entities": n})
                ),
            }
            Ok(ExitCode::Ok)
        }
        Err(Error::Spec(diags)) if matches!(format, Format::Json) => {
            for d in &diags.items {
                crate::outln!(
                    "{}",
                    serde_json::json!({
                        "code": d.code,
                        "file": d.file.display().to_string(),
                        "line": d.pos.map(|p| p.line),
                        "column": d.pos.map(|p| p.column),
                        "message": d.message,
                        "hint": d.hint,
                    })
                );
            }
            Ok(ExitCode::InvalidSpec)
        }
        Err(e) => Err(e),
    }
}
