//! A batch's documents as the COPY path reads them: as JSON text, a few rows per round trip, and
//! handed on in chunks of bounded size, so that a worker holds one chunk's documents and rows at a
//! time whatever the size of the batch. A document too large to evaluate in the client is not
//! sent at all: its user is named, and the server's SQL (`03_forward.sql`) shreds it, as with
//! `--engine sql`.

use postgres::Transaction;

use crate::ir::Plan;
use crate::source::SourceTable;

/// The largest document, in bytes of JSON text, evaluated in the client. Parsed, a document takes
/// about ten times its text; larger ones are left to the server.
pub(crate) const LARGEST_DOCUMENT: i32 = 2 << 20;

/// The bytes of document text evaluated and written together: one chunk's documents, their
/// values and their encoded rows are what a worker holds.
pub(crate) const CHUNK_BYTES: usize = 4 << 20;

/// Rows fetched per round trip: at most this many largest documents are in flight.
const FETCH: i32 = 8;

/// A user's newest document, as JSON text; `None` for SQL NULL.
pub(crate) struct Document {
    pub(crate) user: String,
    pub(crate) text: Option<String>,
}

/// Reads the documents of `users` (the batch's, in the order `03_forward.sql` takes them) in `tx`
/// and calls `each` with `tx` and every chunk of them, in order, as it fills; returns the users
/// whose document is larger than `LARGEST_DOCUMENT`, which were not read.
pub(crate) fn in_chunks<E: From<postgres::Error>>(
    tx: &mut Transaction,
    plan: &Plan,
    users: &[String],
    mut each: impl FnMut(&mut Transaction, Vec<Document>) -> Result<(), E>,
) -> Result<Vec<String>, E> {
    let sql = SourceTable::new(plan).batch_document_texts(&plan.source.key_type);
    // A portal stays open across the COPY statements `each` runs in the same transaction.
    let portal = tx.bind(&sql, &[&users, &LARGEST_DOCUMENT])?;
    let (mut chunk, mut bytes, mut too_big) = (Vec::new(), 0, Vec::new());
    loop {
        let rows = tx.query_portal(&portal, FETCH)?;
        let last = rows.len() < FETCH as usize;
        for r in rows {
            let user: String = r.get(0);
            let text: Option<String> = r.get(1);
            let size: Option<i32> = r.get(2);
            if text.is_none() && size.is_some() {
                too_big.push(user);
                continue;
            }
            bytes += text.as_ref().map_or(0, String::len);
            chunk.push(Document { user, text });
            if bytes >= CHUNK_BYTES {
                each(tx, std::mem::take(&mut chunk))?;
                bytes = 0;
            }
        }
        if last {
            break;
        }
    }
    if !chunk.is_empty() {
        each(tx, chunk)?;
    }
    Ok(too_big)
}
