//! A mapped column: its SQL type, and how the source writes what it holds when the type would
//! not read it as it is (a time as Unix seconds, a date as `%d/%m/%Y`, JSON inside a string),
//! with a free-text date's parsed companion and the formats a document's locale chooses.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::display;
use crate::jsonpath::FieldPath;

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub name: String,
    #[serde(serialize_with = "display")]
    pub path: FieldPath,
    #[serde(rename = "type")]
    pub ty: SqlType,
    pub required: bool,
    pub default: Option<Value>,
    /// The source's own spelling of the value is kept in `extra` too (byte-exact round trips).
    pub keep_original: bool,
    /// How the source writes a time, when not as ISO 8601 text.
    pub format: Option<Format>,
    /// For a parsed companion: the formats tried after `format`, in order, where it does not
    /// read the text.
    pub more_formats: Vec<Format>,
    /// For a parsed companion of type date: the text column saying how much of a date the
    /// format that read the text holds (`day`, `month`, `year`), NULL where none read it.
    pub precision: Option<String>,
    /// For a parsed companion: formats chosen by a value of the document (its locale) instead
    /// of `format` and `more_formats`.
    pub format_by: Option<FormatBy>,
    /// A text column's companion holding the date or time the text names (same path), NULL
    /// where the text names none: a free-text date is kept whole and still sortable.
    pub parsed: Option<Box<Column>>,
}

/// Formats chosen by the text at `path` of the user's document: the first choice whose `value`
/// it is; none, and the companion's own formats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormatBy {
    #[serde(serialize_with = "display")]
    pub path: FieldPath,
    pub choices: Vec<FormatChoice>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormatChoice {
    pub value: String,
    /// Tried in order, as a companion's formats are.
    pub formats: Vec<Format>,
}

impl Column {
    /// The formats a parsed companion tries for a document whose `format_by` path holds
    /// `chosen` (`None`: ISO 8601).
    pub fn formats_for(&self, chosen: Option<&str>) -> Vec<Option<&Format>> {
        if let (Some(by), Some(v)) = (&self.format_by, chosen)
            && let Some(c) = by.choices.iter().find(|c| c.value == v)
        {
            return c.formats.iter().map(Some).collect();
        }
        std::iter::once(self.format.as_ref())
            .chain(self.more_formats.iter().map(Some))
            .collect()
    }
}

/// How the source writes a value the column's type would not read as it is: a time or date not
/// as ISO 8601 text, or JSON written inside a string. Spelled as one string in a mapping
/// (`epoch_s`, `epoch_ms`, `json`, or a date format such as `"%d/%m/%Y"`); validation checks that
/// a date format parses and that each fits the column's type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Format {
    /// Seconds since 1970-01-01 UTC.
    EpochS,
    /// Milliseconds since 1970-01-01 UTC.
    EpochMs,
    /// A date in the given format (`%d`, `%m`, `%Y`).
    Date(String),
    /// JSON text inside a string (`"{\"theme\": \"dark\"}"`), parsed into a jsonb column.
    Json,
}

impl Format {
    pub fn is_epoch(&self) -> bool {
        matches!(self, Format::EpochS | Format::EpochMs)
    }
}

impl From<String> for Format {
    fn from(s: String) -> Self {
        match s.as_str() {
            "epoch_s" => Format::EpochS,
            "epoch_ms" => Format::EpochMs,
            "json" => Format::Json,
            _ => Format::Date(s),
        }
    }
}

impl From<Format> for String {
    fn from(f: Format) -> Self {
        match f {
            Format::EpochS => "epoch_s".into(),
            Format::EpochMs => "epoch_ms".into(),
            Format::Json => "json".into(),
            Format::Date(s) => s,
        }
    }
}

/// Column types a mapping may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SqlType {
    #[serde(rename = "text")]
    Text,
    #[serde(rename = "integer")]
    Integer,
    #[serde(rename = "bigint")]
    Bigint,
    #[serde(rename = "numeric")]
    Numeric,
    #[serde(rename = "boolean")]
    Boolean,
    #[serde(rename = "timestamptz")]
    Timestamptz,
    #[serde(rename = "date")]
    Date,
    #[serde(rename = "jsonb")]
    Jsonb,
    #[serde(rename = "uuid")]
    Uuid,
    #[serde(rename = "text[]")]
    TextArray,
}

impl SqlType {
    pub const ALL: [SqlType; 10] = [
        SqlType::Text,
        SqlType::Integer,
        SqlType::Bigint,
        SqlType::Numeric,
        SqlType::Boolean,
        SqlType::Timestamptz,
        SqlType::Date,
        SqlType::Jsonb,
        SqlType::Uuid,
        SqlType::TextArray,
    ];

    pub fn sql(self) -> &'static str {
        match self {
            SqlType::Text => "text",
            SqlType::Integer => "integer",
            SqlType::Bigint => "bigint",
            SqlType::Numeric => "numeric",
            SqlType::Boolean => "boolean",
            SqlType::Timestamptz => "timestamptz",
            SqlType::Date => "date",
            SqlType::Jsonb => "jsonb",
            SqlType::Uuid => "uuid",
            SqlType::TextArray => "text[]",
        }
    }

    pub fn parse(s: &str) -> Option<SqlType> {
        SqlType::ALL.into_iter().find(|t| t.sql() == s)
    }
}
