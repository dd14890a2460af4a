//! pgshred compiles a declarative migration plan (YAML) that moves per-user JSONB documents into
//! normalized PostgreSQL tables, into reviewable SQL.
//!
//! The pipeline, one module per stage (see ARCHITECTURE.md):
//!
//! ```text
//! plans/*.yaml + mappings/*.yaml
//!   -> spec::load    (YAML -> JSON, schema check, raw serde types; positions kept)
//!   -> validate      (semantic checks -> ir::Plan, entities in foreign-key order)
//!   -> codegen       (minijinja templates -> SQL text, byte-for-byte deterministic)
//!   -> artifacts     (generated/<plan>/*.sql written, or compared for `check`)
//! ```

pub mod artifacts;
pub mod cast;
pub mod cli;
pub mod codegen;
pub mod compiled;
pub mod demo;
pub mod diagnostic;
pub mod eval;
pub mod executor;
mod failpoint;
pub mod generate;
pub mod ident;
pub mod ids;
pub mod impact;
pub mod init;
pub mod ir;
pub mod json;
pub mod jsonpath;
pub mod pg;
pub mod pgtemp;
pub mod preview;
pub mod revision;
pub mod roundtrip;
pub mod source;
pub mod spec;
pub mod statements;
pub mod stdout;
pub mod validate;
pub mod versions;

mod error;
pub use error::{Error, ExitCode};
