//! The source table of a plan, quoted once: every statement pgshred writes about it (the user
//! lists, the newest document of each user, the preview's read) takes its names from here.

use crate::ident::quote_ident;
use crate::ir::Plan;

/// The source table's quoted names.
#[derive(Debug, Clone)]
pub struct SourceTable {
    /// `"schema"."table"`.
    pub table: String,
    pub key: String,
    pub document: String,
    pub order: String,
}

impl SourceTable {
    pub fn new(plan: &Plan) -> SourceTable {
        let s = &plan.source;
        SourceTable {
            table: format!("{}.{}", quote_ident(&s.schema), quote_ident(&s.table)),
            key: quote_ident(&s.key_column),
            document: quote_ident(&s.document_column),
            order: quote_ident(&s.order_column),
        }
    }

    /// The newest row of each user (by the order column, then the physical position) as
    /// `(user_id text, doc jsonb)`, for users `$1` names (all when `$1` is NULL), in byte order of
    /// user id (`COLLATE "C"`, Rust's string order, so it merges with other sorted streams).
    pub fn newest_documents(&self) -> String {
        let key = format!("s.{}::text COLLATE \"C\"", self.key);
        format!(
            "SELECT DISTINCT ON ({key}) {key} AS user_id, s.{doc} AS doc FROM {table} AS s \
              WHERE $1::text IS NULL OR s.{k}::text = $1 ORDER BY {key}, s.{order} DESC, s.ctid DESC",
            doc = self.document,
            table = self.table,
            k = self.key,
            order = self.order,
        )
    }

    /// The newest row of each of the users `$1` (a text[]) names, as `(user_id text, doc text,
    /// bytes integer)`, the document as JSON text and its length, the text NULL when longer than
    /// `$2` bytes: the documents of a batch, as `03_forward.sql` reads them.
    pub fn batch_document_texts(&self, key_type: &str) -> String {
        let cast = key_array_cast(key_type);
        // The subquery (not flattened, for its DISTINCT ON) converts each document once.
        format!(
            "SELECT d.user_id, CASE WHEN octet_length(d.doc) <= $2 THEN d.doc END, octet_length(d.doc) \
               FROM (SELECT DISTINCT ON (s.{k}) s.{k}::text AS user_id, s.{doc}::text AS doc FROM {table} AS s \
                      WHERE s.{k} = ANY($1::text[]{cast}) ORDER BY s.{k}, s.{order} DESC, s.ctid DESC) AS d",
            k = self.key,
            doc = self.document,
            table = self.table,
            order = self.order,
        )
    }

    /// Every row of the users `$1` (a text[]) names, as `(user_id, ctid, xmin)` texts in order:
    /// which row versions a batch's documents come from.
    pub fn row_versions(&self, key_type: &str) -> String {
        let cast = key_array_cast(key_type);
        format!(
            "SELECT s.{k}::text, s.ctid::text, s.xmin::text FROM {table} AS s \
              WHERE s.{k} = ANY($1::text[]{cast}) ORDER BY 1, 2",
            k = self.key,
            table = self.table,
        )
    }

    /// Every row as `(user_id text, order text, doc jsonb)` in user order, at most `$1` of them.
    pub fn all_rows(&self) -> String {
        format!(
            "SELECT s.{key}::text, s.{order}::text, s.{doc} FROM {table} AS s ORDER BY s.{key}, s.{order} LIMIT $1",
            key = self.key,
            order = self.order,
            doc = self.document,
            table = self.table,
        )
    }
}

/// The runbook's statements over the source table, written once: the `backup` and `dedupe`
/// commands run them, and `backup.sql` and `dedupe.sql` print them for psql.
impl SourceTable {
    /// Every row as one JSON object (`to_jsonb` of the row: every column, so `restore` can rebuild
    /// it), in user order: a backup's lines, which `preview --input-file` reads too.
    pub fn backup_rows(&self) -> String {
        format!(
            "SELECT to_jsonb(s)::text\n  FROM {table} AS s\n ORDER BY s.{key}, s.{order}",
            table = self.table,
            key = self.key,
            order = self.order,
        )
    }

    /// Users with more than one row: the user, how many rows, the newest and the oldest change.
    pub fn duplicate_users(&self) -> String {
        format!(
            "SELECT s.{key}::text AS user_id,\n       count(*) AS rows,\n       \
             max(s.{order})::text AS newest,\n       min(s.{order})::text AS oldest\n  \
             FROM {table} AS s\n GROUP BY s.{key}\nHAVING count(*) > 1\n ORDER BY s.{key}",
            table = self.table,
            key = self.key,
            order = self.order,
        )
    }

    /// Deletes every row but the newest of each user (ties broken by physical position, as the
    /// forward script breaks them) and returns what it deleted: the user and the order column.
    pub fn delete_duplicates(&self) -> String {
        format!(
            "DELETE FROM {table} AS s\n USING (SELECT d.ctid AS row_ctid,\n               \
             row_number() OVER (PARTITION BY d.{key} ORDER BY d.{order} DESC, d.ctid DESC) AS rank\n          \
             FROM {table} AS d) AS r\n WHERE s.ctid = r.row_ctid\n   AND r.rank > 1\n\
             RETURNING s.{key}::text AS user_id, s.{order}::text AS {order}",
            table = self.table,
            key = self.key,
            order = self.order,
        )
    }
}

/// What turns `$1`, the batch's user ids as text[], into an array of the key's type, so that the
/// key's index serves `= ANY ($1)`.
fn key_array_cast(key_type: &str) -> String {
    if key_type == "text" {
        String::new()
    } else {
        format!("::{key_type}[]")
    }
}
