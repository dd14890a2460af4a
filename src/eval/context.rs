//! What every step of the evaluation shares: the rows and findings it produces, the context
//! that collects findings for one user, and reading a value at a path.

use serde_json::{Map, Value};

use crate::cast;
use crate::jsonpath::FieldPath;

/// One row that would be written: its table and the row as `to_jsonb` of it would read (without
/// `created_at` and `updated_at`, which the database sets).
#[derive(Debug, Clone)]
pub struct Row {
    pub table: String,
    pub entity: String,
    pub values: Map<String, Value>,
}

/// Would this finding stop the batch holding the user?
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The batch would fail and roll back.
    Abort,
    /// Handled by a policy (or kept in `extra`), but worth knowing.
    Note,
}

/// What a finding is about. Its stable name (`as_str`) is what `preview` prints and
/// `--format json` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    NotADocument,
    IdTooLong,
    Cast,
    MissingRequired,
    MissingId,
    MissingReference,
    NotAnObject,
    NotAnArray,
    DuplicateId,
    Orphan,
    UnmappedKey,
    UnmappedDocumentKey,
    DuplicateUser,
    TypeLost,
    Unparsed,
    Unrouted,
    TooDeep,
    OtherShape,
}

impl Kind {
    /// Every kind, in the order `preview --help` and the docs list them.
    pub const ALL: [Kind; 18] = [
        Kind::NotADocument,
        Kind::IdTooLong,
        Kind::Cast,
        Kind::MissingRequired,
        Kind::MissingId,
        Kind::MissingReference,
        Kind::NotAnObject,
        Kind::NotAnArray,
        Kind::DuplicateId,
        Kind::Orphan,
        Kind::UnmappedKey,
        Kind::UnmappedDocumentKey,
        Kind::DuplicateUser,
        Kind::TypeLost,
        Kind::Unparsed,
        Kind::Unrouted,
        Kind::TooDeep,
        Kind::OtherShape,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NotADocument => "not_a_document",
            Kind::IdTooLong => "id_too_long",
            Kind::Cast => "cast",
            Kind::MissingRequired => "missing_required",
            Kind::MissingId => "missing_id",
            Kind::MissingReference => "missing_reference",
            Kind::NotAnObject => "not_an_object",
            Kind::NotAnArray => "not_an_array",
            Kind::DuplicateId => "duplicate_id",
            Kind::Orphan => "orphan",
            Kind::UnmappedKey => "unmapped_key",
            Kind::UnmappedDocumentKey => "unmapped_document_key",
            Kind::DuplicateUser => "duplicate_user",
            Kind::TypeLost => "type_lost",
            Kind::Unparsed => "unparsed",
            Kind::Unrouted => "unrouted",
            Kind::TooDeep => "too_deep",
            Kind::OtherShape => "other_shape",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    pub kind: Kind,
    pub entity: String,
    pub user_id: String,
    pub legacy_id: Option<String>,
    pub path: String,
    pub value: Option<Value>,
    pub message: String,
}

pub(super) fn at<'a>(v: &'a Value, path: &FieldPath) -> Option<&'a Value> {
    path.keys()
        .iter()
        .try_fold(v, |cur, k| cur.as_object()?.get(k))
}

/// The text of a legacy id or reference: a non-empty string or a number, as `#>>` gives it.
pub(crate) fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        n @ Value::Number(_) => cast::scalar_text(n),
        _ => None,
    }
}

/// The JSON type as `jsonb_typeof` names it (SQL NULL reaches the evaluator as JSON null).
pub(super) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(super) fn position(ords: &[usize]) -> String {
    format!(
        "#{}",
        ords.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(".")
    )
}

pub(super) struct Ctx<'a> {
    pub(super) user: &'a str,
    /// The user's whole document, for what its values decide (a date's formats by its locale).
    pub(super) doc: &'a Value,
    pub(super) findings: &'a mut Vec<Finding>,
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn find(
        &mut self,
        severity: Severity,
        kind: Kind,
        entity: &str,
        legacy_id: Option<&str>,
        path: &str,
        value: Option<&Value>,
        message: String,
    ) {
        self.findings.push(Finding {
            severity,
            kind,
            entity: entity.to_string(),
            user_id: self.user.to_string(),
            legacy_id: legacy_id.map(str::to_string),
            path: path.to_string(),
            value: value.cloned(),
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::Kind;

    /// The operator's guide lists every kind of finding, each once, and no other.
    #[test]
    fn the_docs_list_every_kind_of_finding() {
        let docs = include_str!("../../docs/operating.md");
        let (_, table) = docs
            .split_once("The kinds of\nfinding:\n\n")
            .expect("the table");
        let listed: Vec<&str> = table
            .lines()
            .take_while(|l| l.starts_with('|'))
            .filter_map(|l| l.strip_prefix("| `")?.split_once("` |").map(|(k, _)| k))
            .collect();
        let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(listed, kinds);
    }
}
