//! The runbook's preparation steps: `backup`, `restore` and `dedupe`.
//!
//! A backup is JSON lines, one source row per line (`to_jsonb` of the row: every column), written
//! in user order with a manifest beside it (`FILE.manifest.json`: rows, sha256 of the file, when it
//! was taken, the newest change it contains). Memory stays flat both ways: rows stream through a
//! portal and the hash is computed as bytes are written or read.

use crate::pg::Context;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::ident::quote_ident;
use crate::ir::Plan;
use crate::source::SourceTable;

pub fn manifest_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

fn source(plan: &Plan) -> String {
    SourceTable::new(plan).table
}

/// Writes every source row to `out` and its manifest beside it; returns the manifest.
pub fn backup(plan: &Plan, url: &str, out: &Path) -> Result<Value, Error> {
    let mut c = crate::pg::connect(url)?;
    let mut tx = c.transaction().context("starting the backup")?;
    // One snapshot for the rows and the manifest's high-water mark.
    tx.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .context("starting the backup")?;
    let src = SourceTable::new(plan);
    let newest: Option<String> = tx
        .query_one(
            &format!("SELECT max(s.{})::text FROM {} AS s", src.order, src.table),
            &[],
        )
        .context("reading the newest change")?
        .get(0);
    let sql = src.backup_rows();
    let portal = tx.bind(sql.as_str(), &[]).context("reading the source")?;
    let tmp = out.with_extension("partial");
    let file =
        File::create(&tmp).map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut hash = Sha256::new();
    let mut rows: u64 = 0;
    loop {
        let batch = tx
            .query_portal(&portal, 1000)
            .context("reading the source")?;
        if batch.is_empty() {
            break;
        }
        for r in batch {
            let line: String = r.get(0);
            for part in [line.as_bytes(), b"\n"] {
                hash.update(part);
                w.write_all(part)
                    .map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
            }
            rows += 1;
        }
    }
    w.flush()
        .map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
    let taken: String = tx
        .query_one("SELECT now()::text", &[])
        .context("reading the time")?
        .get(0);
    let manifest = json!({
        "plan": plan.name,
        "source": format!("{}.{}", plan.source.schema, plan.source.table),
        "rows": rows,
        "sha256": hash.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "taken_at": taken,
        "newest_change": newest,
    });
    std::fs::rename(&tmp, out)
        .map_err(|e| Error::io(format!("renaming {} into place", tmp.display()), e))?;
    let mpath = manifest_path(out);
    std::fs::write(
        &mpath,
        serde_json::to_string_pretty(&manifest).expect("JSON") + "\n",
    )
    .map_err(|e| Error::io(format!("writing {}", mpath.display()), e))?;
    Ok(manifest)
}

fn read_manifest(file: &Path) -> Result<Value, Error> {
    let mpath = manifest_path(file);
    let text = std::fs::read_to_string(&mpath)
        .map_err(|e| Error::io(format!("reading {}", mpath.display()), e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Input(format!("{}: not a pgshred manifest: {e}", mpath.display())))
}

/// Checks a backup against its manifest (row count and sha256), reading it once.
pub fn check_backup(file: &Path) -> Result<Value, Error> {
    let manifest = read_manifest(file)?;
    let f = File::open(file).map_err(|e| Error::io(format!("opening {}", file.display()), e))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let (mut hash, mut rows) = (Sha256::new(), 0u64);
    loop {
        let buf = r
            .fill_buf()
            .map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
        if buf.is_empty() {
            break;
        }
        rows += buf.iter().filter(|b| **b == b'\n').count() as u64;
        hash.update(buf);
        let n = buf.len();
        r.consume(n);
    }
    let sum: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    if manifest["sha256"].as_str() != Some(sum.as_str()) || manifest["rows"].as_u64() != Some(rows)
    {
        return Err(Error::refused(
            format!(
                "{} does not match its manifest ({} rows, sha256 {}…; manifest says {} rows, {}…)",
                file.display(),
                rows,
                &sum[..12],
                manifest["rows"],
                manifest["sha256"]
                    .as_str()
                    .unwrap_or("?")
                    .chars()
                    .take(12)
                    .collect::<String>()
            ),
            "the file was changed or truncated after the backup; take a new backup",
        ));
    }
    Ok(manifest)
}

/// Loads a checked backup into `table` (created like the source table), in one transaction.
/// Returns the rows loaded.
pub fn restore(plan: &Plan, url: &str, file: &Path, table: &str) -> Result<u64, Error> {
    let manifest = check_backup(file)?;
    let mut c = crate::pg::connect(url)?;
    let mut tx = c.transaction().context("starting the restore")?;
    crate::pg::set_lock_timeout(&mut tx, &plan.batch.lock_timeout)?;
    let target = format!(
        "{}.{}",
        quote_ident(&plan.source.schema),
        quote_ident(table)
    );
    tx.batch_execute(&format!(
        "CREATE TABLE {target} (LIKE {} INCLUDING ALL)",
        source(plan)
    ))
    .context("creating the table to restore into")?;
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {target} SELECT r.* FROM jsonb_array_elements($1::jsonb) AS e, jsonb_populate_record(NULL::{target}, e) AS r"
        ))
        .context("preparing the restore")?;
    let f = File::open(file).map_err(|e| Error::io(format!("opening {}", file.display()), e))?;
    let mut chunk = Vec::with_capacity(1000);
    let mut loaded = 0u64;
    for line in BufReader::new(f).lines() {
        let line = line.map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
        chunk.push(
            crate::json::from_str::<Value>(&line)
                .map_err(|e| Error::Input(format!("{}: {e}", file.display())))?,
        );
        if chunk.len() == 1000 {
            loaded += tx
                .execute(&insert, &[&Value::Array(std::mem::take(&mut chunk))])
                .context("restoring rows")?;
        }
    }
    if !chunk.is_empty() {
        loaded += tx
            .execute(&insert, &[&Value::Array(chunk)])
            .context("restoring rows")?;
    }
    if Some(loaded) != manifest["rows"].as_u64() {
        return Err(Error::Input(format!(
            "restored {loaded} rows, the manifest says {}; nothing was kept",
            manifest["rows"]
        )));
    }
    tx.commit().context("committing the restore")?;
    Ok(loaded)
}

/// Users with several source rows: (user, rows, newest change).
pub fn dedupe_review(plan: &Plan, url: &str) -> Result<Vec<(String, i64, String)>, Error> {
    let mut c = crate::pg::connect(url)?;
    Ok(c.query(&SourceTable::new(plan).duplicate_users(), &[])
        .context("looking for duplicate users")?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// Keeps the newest row of each user, in one transaction, after checking that `backup` holds
/// every change: its manifest must be newer than the newest change in the source. Returns the
/// deleted rows as (user, their order column).
pub fn dedupe_apply(plan: &Plan, url: &str, backup: &Path) -> Result<Vec<(String, String)>, Error> {
    let manifest = check_backup(backup)?;
    if manifest["plan"].as_str() != Some(plan.name.as_str()) {
        return Err(Error::refused(
            format!(
                "{} is a backup of plan {}, not {}",
                backup.display(),
                manifest["plan"],
                plan.name
            ),
            "back up this plan's source first: pgshred backup PLAN --out FILE",
        ));
    }
    let mut c = crate::pg::connect(url)?;
    let mut tx = c.transaction().context("starting the dedupe")?;
    crate::pg::set_lock_timeout(&mut tx, &plan.batch.lock_timeout)?;
    let source = SourceTable::new(plan);
    let (src, order) = (&source.table, &source.order);
    tx.batch_execute(&format!("LOCK TABLE {src} IN SHARE ROW EXCLUSIVE MODE"))
        .context("locking the source")?;
    let newer: bool = tx
        .query_one(
            &format!(
                "SELECT coalesce(max(s.{order}) > $1::text::timestamptz, false) FROM {src} AS s"
            ),
            &[&manifest["newest_change"].as_str().unwrap_or("-infinity")],
        )
        .context("comparing with the backup")?
        .get(0);
    if newer {
        return Err(Error::refused(
            "the source changed after the backup was taken",
            "take a new backup (pgshred backup PLAN --out FILE) and dedupe with it",
        ));
    }
    let deleted = tx
        .query(&source.delete_duplicates(), &[])
        .context("deleting older rows")?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    tx.commit().context("committing the dedupe")?;
    Ok(deleted)
}
