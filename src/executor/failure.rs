//! How a batch failed, in words an operator can act on: the problem of one part of a batch (of
//! the users' data, or of the session), the server's error taken apart, and the failure recorded
//! in the ledger.

use postgres::Client;
use serde_json::{Value, json};

use super::sql;
use super::sql::Batch;
use crate::Error;
use crate::error::BatchFailure;

/// Why a part of a batch failed.
#[derive(Debug)]
pub(super) struct Problem {
    pub(super) message: String,
    pub(super) detail: Option<Value>,
    pub(super) hint: Option<String>,
    pub(super) sqlstate: Option<String>,
    /// The users' documents are at fault (a data or integrity error, a verification mismatch),
    /// not the connection or the server: splitting the part can find the users to set aside.
    pub(super) data: bool,
    /// The server's error, for problems that stop the batch whatever the users.
    pub(super) source: Option<postgres::Error>,
}

impl Problem {
    /// The COPY path's failure: the server's, or a document the evaluator refuses (of the data,
    /// like the SQL path's errors raised by the forward script).
    pub(super) fn from_copy(e: super::copy::CopyError) -> Problem {
        match e {
            super::copy::CopyError::Db(e) => Problem::from_db(e),
            super::copy::CopyError::Data { user, message } => Problem {
                detail: Some(json!({ "user_id": user })),
                message,
                hint: Some(
                    "pgshred preview PLAN --input-file FILE names every problem of the documents"
                        .into(),
                ),
                sqlstate: None,
                data: true,
                source: None,
            },
            super::copy::CopyError::Document {
                message,
                detail,
                hint,
            } => Problem {
                message,
                detail: Some(detail),
                hint: Some(hint),
                sqlstate: Some("22023".into()),
                data: true,
                source: None,
            },
        }
    }

    pub(super) fn from_db(e: postgres::Error) -> Problem {
        let (message, detail, hint, sqlstate) = error_parts(&e);
        // 54000: a value too large for an index entry, which only the users' documents hold.
        let data = sqlstate
            .as_deref()
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23") || c == "54000");
        Problem {
            message,
            detail,
            hint,
            sqlstate,
            data,
            source: Some(e),
        }
    }

    /// What the quarantine table records.
    pub(super) fn as_json(&self) -> Value {
        let d = self.detail.as_ref();
        let field = |k: &str| d.and_then(|d| d.get(k)).cloned().unwrap_or(Value::Null);
        json!({
            "message": self.message,
            "sqlstate": self.sqlstate,
            "entity": field("entity"),
            "legacy_id": field("legacy_id"),
            "path": field("path"),
            "value": field("value"),
        })
    }

    pub(super) fn into_failure(self, run: i64, b: &Batch) -> BatchFailure {
        BatchFailure {
            message: self.message,
            detail: self.detail,
            hint: self.hint,
            sqlstate: self.sqlstate,
            ..failure_from_message(run, b)
        }
    }
}

pub(super) fn failure_from(e: &postgres::Error, run: i64, b: &Batch) -> BatchFailure {
    let (message, detail, hint, sqlstate) = error_parts(e);
    BatchFailure {
        message,
        detail,
        hint,
        sqlstate,
        ..failure_from_message(run, b)
    }
}

/// Message, detail (the JSON pgshred's SQL attaches, else the text), hint and SQLSTATE.
/// Errors about the session rather than the data get a hint of what to do.
pub(super) fn error_parts(
    e: &postgres::Error,
) -> (String, Option<Value>, Option<String>, Option<String>) {
    let (message, detail, hint, code) = match e.as_db_error() {
        Some(d) => (
            d.message().to_string(),
            d.detail()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .or_else(|| d.detail().map(|t| Value::String(t.into()))),
            d.hint().map(str::to_string),
            Some(d.code().code().to_string()),
        ),
        None => (e.to_string(), None, None, None),
    };
    let message = detail.as_ref().and_then(data_message).unwrap_or(message);
    let hint = hint.or_else(|| {
        let said = match code.as_deref() {
            Some("55P03") => {
                "another session holds a lock on a table this batch writes (see pg_locks and pg_stat_activity): let it finish, or raise --lock-timeout"
            }
            Some("57014") => {
                "the statement ran past --statement-timeout or was cancelled: raise the timeout or lower --batch-size"
            }
            Some("57P01" | "57P02" | "57P03") => {
                "the server ended the connection (a terminated backend, a restart or a failover); nothing of this batch was kept"
            }
            Some("40001" | "40P01") => {
                "a concurrent transaction conflicted with this batch; nothing of it was kept"
            }
            None if e.is_closed() => {
                "the connection was lost mid-batch; nothing of this batch was kept"
            }
            _ => return None,
        };
        Some(said.to_string())
    });
    (message, detail, hint, code)
}

/// A problem of a user's document, as `fail()` in `01_schema.sql` raises it (message, and the
/// JSON in its DETAIL) and as the COPY path reports it: the one place its words are built in
/// Rust, whichever writer found it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DataError {
    pub(crate) problem: String,
    pub(crate) user_id: String,
    pub(crate) entity: String,
    pub(crate) legacy_id: Option<String>,
    pub(crate) path: String,
    pub(crate) value: Option<Value>,
}

impl DataError {
    /// Read back from the DETAIL that `fail()` attaches.
    pub(crate) fn from_detail(detail: &Value) -> Option<DataError> {
        let text = |k: &str| match detail.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(v) => Some(v.to_string()),
        };
        Some(DataError {
            problem: detail.get("problem")?.as_str()?.to_string(),
            user_id: text("user_id").unwrap_or_default(),
            entity: text("entity").unwrap_or_default(),
            legacy_id: text("legacy_id"),
            path: text("path").unwrap_or_default(),
            value: detail.get("value").filter(|v| !v.is_null()).cloned(),
        })
    }

    /// `fail()`'s message: the ids quoted when needed (a user id holding a line break would
    /// split the line), `?` for a missing legacy id, the value cut at 200 characters or
    /// `missing`.
    pub(crate) fn message(&self) -> String {
        let shown = crate::ids::shown_user;
        let value = self.value.as_ref().map_or_else(
            || "missing".to_string(),
            |v| v.to_string().chars().take(200).collect(),
        );
        format!(
            "pgshred: {} (user {}, entity {}, legacy id {}, path {}, value {value})",
            self.problem,
            shown(&self.user_id),
            self.entity,
            self.legacy_id.as_deref().map_or("?".into(), shown),
            shown(&self.path),
        )
    }

    /// The JSON of `fail()`'s DETAIL, which fills the quarantine's columns.
    pub(crate) fn detail(&self) -> Value {
        serde_json::json!({
            "user_id": self.user_id, "entity": self.entity, "legacy_id": self.legacy_id,
            "path": self.path, "value": self.value, "problem": self.problem,
        })
    }
}

/// The message of a data problem raised by pgshred's SQL, rebuilt from its JSON detail (the
/// server's own text splices the ids in raw).
fn data_message(detail: &Value) -> Option<String> {
    DataError::from_detail(detail).map(|d| d.message())
}

pub(super) fn failure_from_message(run: i64, b: &Batch) -> BatchFailure {
    BatchFailure {
        run,
        batch: b.id,
        seq: b.seq,
        users: b.users.clone(),
        committed: 0,
        message: String::new(),
        detail: None,
        hint: None,
        sqlstate: None,
        dry_run: false,
    }
}

pub(super) fn record_failure(
    client: &mut Client,
    q: &sql::Queries,
    f: &BatchFailure,
) -> Result<(), Error> {
    let error = json!({
        "message": f.message,
        "detail": f.detail,
        "hint": f.hint,
        "sqlstate": f.sqlstate,
    });
    q.fail_batch(client, f.batch, &error)
}

pub(super) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::DataError;
    use serde_json::json;

    /// The words are the same built from a finding (the COPY path) or read back from the DETAIL
    /// the SQL's `fail()` attached, and say `?` and `missing` where the SQL does.
    #[test]
    fn a_data_error_reads_the_same_from_either_writer() {
        let e = DataError {
            problem: "required value is missing".into(),
            user_id: "user\n7".into(),
            entity: "contents".into(),
            legacy_id: None,
            path: "title".into(),
            value: None,
        };
        assert_eq!(
            e.message(),
            "pgshred: required value is missing (user \"user\\n7\", entity contents, legacy id ?, path title, value missing)"
        );
        assert_eq!(DataError::from_detail(&e.detail()), Some(e.clone()));
        let long = DataError {
            legacy_id: Some("c1".into()),
            value: Some(json!("x".repeat(300))),
            ..e
        };
        assert!(
            long.message()
                .contains("legacy id c1, path title, value \"xxx")
        );
        assert!(long.message().len() < 320);
    }
}
