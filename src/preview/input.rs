//! Source rows for the preview, one at a time: from a JSON array or JSON-lines file (the backup
//! format: each row an object of the source table's columns), or from the source table. Nothing
//! holds more than one row, so memory stays flat.

use crate::pg::Context;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::Error;
use crate::ir::Plan;

/// One row of the source table.
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub user_id: String,
    pub updated_at: Option<String>,
    pub state: Value,
}

/// The fields of a row in a file: the source table's key, order and document columns (what a
/// backup holds, every column of the row), or `user_id`, `updated_at` and `state`.
pub struct Fields<'a> {
    key: &'a str,
    order: &'a str,
    document: &'a str,
    /// An object with neither the key nor the document field is a document itself (`init`
    /// reads plain documents too); its row has an empty user id.
    plain: bool,
}

impl<'a> Fields<'a> {
    pub fn of(plan: &'a Plan) -> Fields<'a> {
        let s = &plan.source;
        Fields {
            key: &s.key_column,
            order: &s.order_column,
            document: &s.document_column,
            plain: false,
        }
    }

    /// Rows of `{user_id, updated_at, state}`, or plain documents.
    pub fn documents() -> Fields<'static> {
        Fields {
            key: "user_id",
            order: "updated_at",
            document: "state",
            plain: true,
        }
    }

    /// The row an object of the file holds.
    fn row(&self, mut object: Map<String, Value>) -> Result<SourceRow, String> {
        if self.plain && !object.contains_key(self.key) && !object.contains_key(self.document) {
            return Ok(SourceRow {
                user_id: String::new(),
                updated_at: None,
                state: Value::Object(object),
            });
        }
        let mut take = |name: &str, usual: &str| {
            object
                .remove(name)
                .or_else(|| object.remove(usual))
                .filter(|v| !v.is_null())
        };
        let Some(user_id) = take(self.key, "user_id") else {
            return Err(format!("{} is missing or null", self.key));
        };
        let updated_at = take(self.order, "updated_at").map(text);
        let state = take(self.document, "state").unwrap_or(Value::Null);
        Ok(SourceRow {
            user_id: text(user_id),
            updated_at,
            state,
        })
    }

    /// The fields, as an error message names what a row should be.
    fn shown(&self) -> String {
        format!("{{{}, {}, {}}}", self.key, self.order, self.document)
    }
}

fn text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Calls `each` for every row of a JSON array file, parsing one element at a time.
struct Rows<'a> {
    fields: &'a Fields<'a>,
    each: &'a mut dyn FnMut(SourceRow) -> Result<(), Error>,
    failure: &'a mut Option<Error>,
}

impl<'de> Visitor<'de> for Rows<'_> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array of {} objects", self.fields.shown())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while let Some(object) = seq.next_element::<Map<String, Value>>()? {
            n += 1;
            let row = (self.fields.row(object))
                .map_err(|e| de::Error::custom(format!("row {n}: {e}")))?;
            if let Err(e) = (self.each)(row) {
                *self.failure = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(n)
    }
}

impl<'de> DeserializeSeed<'de> for Rows<'_> {
    type Value = usize;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

/// Streams the rows of `path`: a JSON array, or one JSON object per line. Returns how many.
pub fn from_file(
    path: &Path,
    fields: &Fields,
    each: &mut dyn FnMut(SourceRow) -> Result<(), Error>,
) -> Result<usize, Error> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| Error::io(format!("opening {shown}"), e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let first = loop {
        let buf = reader
            .fill_buf()
            .map_err(|e| Error::io(format!("reading {shown}"), e))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break Some(buf[i]),
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    match first {
        None => Ok(0),
        Some(b'[') => {
            let mut failure = None;
            let result = crate::json::seed_from_reader(
                reader,
                Rows {
                    fields,
                    each,
                    failure: &mut failure,
                },
            );
            if let Some(e) = failure {
                return Err(e);
            }
            result.map_err(|e| Error::Input(format!("{shown}: {e}")))
        }
        Some(_) => {
            let mut n = 0;
            for (i, line) in reader.lines().enumerate() {
                let line = line.map_err(|e| Error::io(format!("reading {shown}"), e))?;
                if line.trim().is_empty() {
                    continue;
                }
                let object: Map<String, Value> = crate::json::from_str(&line).map_err(|e| {
                    Error::Input(format!(
                        "{shown}:{}: not a {} object: {e}",
                        i + 1,
                        fields.shown()
                    ))
                })?;
                let row = (fields.row(object))
                    .map_err(|e| Error::Input(format!("{shown}:{}: {e}", i + 1)))?;
                each(row)?;
                n += 1;
            }
            Ok(n)
        }
    }
}

/// Streams up to `limit` rows of the source table, in user order, through a server-side portal.
pub fn from_database(
    url: &str,
    plan: &Plan,
    limit: Option<i64>,
    each: &mut dyn FnMut(SourceRow) -> Result<(), Error>,
) -> Result<usize, Error> {
    let sql = crate::source::SourceTable::new(plan).all_rows();
    stream(url, &sql, &limit, &mut |r| {
        each(SourceRow {
            user_id: r.get(0),
            updated_at: r.get(1),
            state: crate::json::column(r, 2),
        })
    })
}

/// Streams the rows of `sql` (one parameter, `param`) through a server-side portal, a few
/// hundred at a time, so memory does not grow with the table. Returns how many.
pub fn stream(
    url: &str,
    sql: &str,
    param: &(dyn postgres::types::ToSql + Sync),
    each: &mut dyn FnMut(&postgres::Row) -> Result<(), Error>,
) -> Result<usize, Error> {
    let mut client = crate::pg::connect(url)?;
    const READING: &str = "reading the source table";
    let mut tx = client.transaction().context(READING)?;
    let portal = tx.bind(sql, &[param]).context(READING)?;
    let mut n = 0;
    loop {
        let rows = tx.query_portal(&portal, 500).context(READING)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            each(r)?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_read_by_the_source_columns_names_or_the_usual_ones() {
        let fields = Fields {
            key: "uid",
            order: "changed",
            document: "doc",
            plain: false,
        };
        let object = |v: Value| v.as_object().unwrap().clone();
        let backup = object(
            serde_json::json!({"id": 3, "uid": 7, "changed": "2024-01-01", "doc": {"a": 1}}),
        );
        let row = fields.row(backup).unwrap();
        assert_eq!(row.user_id, "7");
        assert_eq!(row.updated_at.as_deref(), Some("2024-01-01"));
        assert_eq!(row.state, serde_json::json!({"a": 1}));
        let usual = object(serde_json::json!({"user_id": "u", "state": [1]}));
        let row = fields.row(usual).unwrap();
        assert_eq!((row.user_id.as_str(), row.updated_at), ("u", None));
        assert_eq!(row.state, serde_json::json!([1]));
        let nameless = object(serde_json::json!({"uid": null, "doc": {}}));
        assert_eq!(
            fields.row(nameless).err().unwrap(),
            "uid is missing or null"
        );
    }
}
