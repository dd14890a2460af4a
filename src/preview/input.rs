//! Source rows for the preview, one at a time: from a JSON array or JSON-lines file (the backup
//! format), or from the source table. Nothing holds more than one row, so memory stays flat.

use crate::pg::Context;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;

use crate::Error;
use crate::ir::Plan;

/// One row of the source table.
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub user_id: String,
    pub updated_at: Option<String>,
    pub state: Value,
}

#[derive(Deserialize)]
struct RawRow {
    user_id: Value,
    #[serde(default)]
    updated_at: Option<Value>,
    #[serde(default)]
    state: Value,
}

fn text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

impl TryFrom<RawRow> for SourceRow {
    type Error = String;
    fn try_from(r: RawRow) -> Result<Self, String> {
        if r.user_id.is_null() {
            return Err("user_id is null".into());
        }
        Ok(SourceRow {
            user_id: text(r.user_id),
            updated_at: r.updated_at.filter(|v| !v.is_null()).map(text),
            state: r.state,
        })
    }
}

/// Calls `each` for every row of a JSON array file, parsing one element at a time.
struct Rows<'a> {
    each: &'a mut dyn FnMut(SourceRow) -> Result<(), Error>,
    failure: &'a mut Option<Error>,
}

impl<'de> Visitor<'de> for Rows<'_> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of {user_id, updated_at, state} objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while let Some(raw) = seq.next_element::<RawRow>()? {
            n += 1;
            let row =
                SourceRow::try_from(raw).map_err(|e| de::Error::custom(format!("row {n}: {e}")))?;
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
                let raw: RawRow = crate::json::from_str(&line).map_err(|e| {
                    Error::Input(format!(
                        "{shown}:{}: not a {{user_id, updated_at, state}} object: {e}",
                        i + 1
                    ))
                })?;
                let row = SourceRow::try_from(raw)
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
    let mut client = crate::pg::connect(url)?;
    const READING: &str = "reading the source table";
    let mut tx = client.transaction().context(READING)?;
    let portal = tx.bind(sql.as_str(), &[&limit]).context(READING)?;
    let mut n = 0;
    loop {
        let rows = tx.query_portal(&portal, 500).context(READING)?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            each(SourceRow {
                user_id: r.get(0),
                updated_at: r.get(1),
                state: crate::json::column(&r, 2),
            })?;
            n += 1;
        }
    }
    Ok(n)
}
