//! Faults injected by the tests, compiled only with the `failpoints` feature (which `scripts/test`
//! turns on): a release binary has neither the hooks nor the environment variables' meaning, so
//! setting them in production does nothing.
//!
//! - `PGSHRED_FAILPOINT=<point>:<batch seq>`: the process dies at that point as if killed (no
//!   unwinding, no goodbye to the server). The points are `claimed`, `forward`, `verified`,
//!   `finished` (ledger updated, not committed), `committed`, and for `--bulk` `deferred:0` and
//!   `restored:<n>`. `<point>:<batch seq>:sigint` sends SIGINT there instead (Ctrl-C), and
//!   `<point>:<batch seq>:pause` waits 3 seconds there (a slow process).
//! - `PGSHRED_FAULT=drop-row|add-row|panic`: the evaluator behind the COPY path loses the last
//!   row of every document it shreds (a leaf's, so no foreign key notices), or adds a copy of the
//!   first under a new id and legacy id: the bugs the batch's judge (`04_verify.sql`) must catch
//!   before anything commits; or panics, which must fail the batch naming the user.

#[cfg(feature = "failpoints")]
use std::sync::OnceLock;

#[cfg(feature = "failpoints")]
fn var(name: &'static str, cell: &'static OnceLock<Option<String>>) -> Option<&'static str> {
    cell.get_or_init(|| std::env::var(name).ok()).as_deref()
}

/// Dies here when `PGSHRED_FAILPOINT` names this point and batch; with `:sigint` after them,
/// sends itself SIGINT instead, as an operator's Ctrl-C at that moment would; with `:pause`,
/// waits 3 seconds.
#[cfg(feature = "failpoints")]
pub(crate) fn failpoint(point: &str, seq: i32) {
    static WANTED: OnceLock<Option<String>> = OnceLock::new();
    let here = format!("{point}:{seq}");
    match var("PGSHRED_FAILPOINT", &WANTED) {
        Some(w) if w == here => std::process::abort(),
        Some(w) if w.strip_suffix(":pause") == Some(here.as_str()) => {
            std::thread::sleep(std::time::Duration::from_secs(3));
        }
        Some(w) if w.strip_suffix(":sigint") == Some(here.as_str()) => {
            // SAFETY: raise only delivers a signal to this process, whose handler sets a flag.
            unsafe { libc::raise(libc::SIGINT) };
        }
        _ => {}
    }
}

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn failpoint(_point: &str, _seq: i32) {}

/// The evaluator's rows of one document, with `PGSHRED_FAULT`'s bug applied.
#[cfg(feature = "failpoints")]
pub(crate) fn evaluator(rows: &mut Vec<crate::eval::Row>) {
    use serde_json::Value;
    static FAULT: OnceLock<Option<String>> = OnceLock::new();
    match var("PGSHRED_FAULT", &FAULT) {
        Some("drop-row") => {
            rows.pop();
        }
        Some("panic") => panic!("a fault of the evaluator (PGSHRED_FAULT=panic)"),
        Some("add-row") if !rows.is_empty() => {
            let mut extra = rows[0].clone();
            for key in ["id", "legacy_id"] {
                let v = extra.values.get(key).and_then(Value::as_str).unwrap_or("");
                let changed = if key == "id" {
                    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, v.as_bytes()).to_string()
                } else {
                    format!("{v}~fault")
                };
                extra.values.insert(key.into(), Value::from(changed));
            }
            rows.push(extra);
        }
        _ => {}
    }
}

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn evaluator(_rows: &mut Vec<crate::eval::Row>) {}
