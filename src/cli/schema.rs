//! `pgshred schema`: the JSON Schema of the spec format.

use std::io::Write as _;

use clap::Args;

use super::SchemaKind;
use crate::spec::schema::SCHEMA_TEXT;
use crate::{Error, ExitCode};

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which part of the schema to print.
    #[arg(long, value_enum, default_value_t = SchemaKind::All)]
    pub kind: SchemaKind,
}

pub fn run(args: SchemaArgs) -> Result<ExitCode, Error> {
    let SchemaArgs { kind } = args;
    let text = match kind {
        SchemaKind::All => SCHEMA_TEXT.to_string(),
        SchemaKind::Plan | SchemaKind::Mapping => {
            let root: serde_json::Value =
                serde_json::from_str(SCHEMA_TEXT).expect("shipped schema is JSON");
            let def = if matches!(kind, SchemaKind::Plan) {
                "plan"
            } else {
                "mapping"
            };
            let one = serde_json::json!({
                "$schema": root["$schema"],
                "$ref": format!("#/$defs/{def}"),
                "$defs": root["$defs"],
            });
            serde_json::to_string_pretty(&one).expect("JSON value serializes") + "\n"
        }
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("writing to stdout", e))?;
    Ok(ExitCode::Ok)
}
