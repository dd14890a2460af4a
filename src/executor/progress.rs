//! Progress: a bar with users/s, rows/s and ETA on a terminal; plain log lines otherwise.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Receives what the executor does, as it does it.
pub trait Reporter {
    fn line(&mut self, text: &str);
    fn start(&mut self, users: usize, batches: usize);
    /// A batch committed (or, in a dry run, rolled back after it ran): its ledger id (`None` in
    /// a dry run, whose batches are not kept), its place in the run, its users and rows.
    fn batch_done(&mut self, id: Option<i64>, seq: i32, users: usize, rows: &BTreeMap<String, i64>);
    /// The workers wait (why; repeated while they do, with fresh figures), or go on (None).
    fn waiting(&mut self, why: Option<&str>);
    fn finish(&mut self);
}

/// While workers wait, a log gets a line when the wait starts, every so often, and at its end.
const WAIT_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Chooses a bar when stderr is a terminal, log lines otherwise; both on stderr, so that stdout
/// carries only the command's result.
pub fn for_terminal() -> Box<dyn Reporter> {
    if std::io::stderr().is_terminal() {
        Box::new(Bar::default())
    } else {
        Box::new(Lines::default())
    }
}

/// Plain lines, one per batch, for logs and CI.
#[derive(Default)]
pub struct Lines {
    started: Option<Instant>,
    users: usize,
    done_users: usize,
    rows: i64,
    /// When the current wait started, and when it was last logged.
    waiting: Option<(Instant, Instant)>,
}

impl Reporter for Lines {
    fn line(&mut self, text: &str) {
        // Nobody reading the log (a closed stderr) is no reason to stop a migration.
        let _ = writeln!(std::io::stderr(), "{text}");
    }
    fn start(&mut self, users: usize, _batches: usize) {
        self.started = Some(Instant::now());
        self.users = users;
    }
    fn batch_done(
        &mut self,
        id: Option<i64>,
        seq: i32,
        users: usize,
        rows: &BTreeMap<String, i64>,
    ) {
        self.done_users += users;
        let n: i64 = rows.values().sum();
        self.rows += n;
        let secs = self
            .started
            .map_or(0.0, |s| s.elapsed().as_secs_f64())
            .max(1e-9);
        let _ = writeln!(
            std::io::stderr(),
            "batch {}: {users} users, {n} rows ({}/{} users, {:.0} users/s, {:.0} rows/s)",
            // The id status lists and `rollback --batch` takes, and the batch's place in the run.
            id.map_or_else(
                || format!("seq {seq} (dry run)"),
                |id| format!("{id} (seq {seq})")
            ),
            self.done_users,
            self.users,
            self.done_users as f64 / secs,
            self.rows as f64 / secs
        );
    }
    fn waiting(&mut self, why: Option<&str>) {
        let now = Instant::now();
        match (why, self.waiting) {
            (Some(why), None) => {
                self.waiting = Some((now, now));
                self.line(why);
            }
            (Some(why), Some((since, logged))) if now - logged >= WAIT_LOG_EVERY => {
                self.waiting = Some((since, now));
                self.line(why);
            }
            (None, Some((since, _))) => {
                self.waiting = None;
                self.line(&format!(
                    "going on after waiting {:.1}s",
                    (now - since).as_secs_f64()
                ));
            }
            _ => {}
        }
    }
    fn finish(&mut self) {}
}

/// An indicatif bar on stderr.
#[derive(Default)]
pub struct Bar {
    bar: Option<ProgressBar>,
    rows: i64,
    started: Option<Instant>,
}

impl Reporter for Bar {
    fn line(&mut self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }
    fn start(&mut self, users: usize, _batches: usize) {
        let bar = ProgressBar::with_draw_target(Some(users as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} users  {msg}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        self.bar = Some(bar);
        self.started = Some(Instant::now());
    }
    fn batch_done(&mut self, _: Option<i64>, _: i32, users: usize, rows: &BTreeMap<String, i64>) {
        self.rows += rows.values().sum::<i64>();
        if let Some(b) = &self.bar {
            let secs = self
                .started
                .map_or(0.0, |s| s.elapsed().as_secs_f64())
                .max(1e-9);
            b.inc(users as u64);
            b.set_message(format!(
                "{:.0} users/s, {} rows, {:.0} rows/s",
                b.position() as f64 / secs,
                self.rows,
                self.rows as f64 / secs
            ));
        }
    }
    fn waiting(&mut self, why: Option<&str>) {
        if let Some(b) = &self.bar {
            b.set_message(why.unwrap_or("going on").to_string());
        }
    }
    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// Collects nothing: for library callers that print their own report.
pub struct Quiet;

impl Reporter for Quiet {
    fn line(&mut self, _: &str) {}
    fn start(&mut self, _: usize, _: usize) {}
    fn batch_done(&mut self, _: Option<i64>, _: i32, _: usize, _: &BTreeMap<String, i64>) {}
    fn waiting(&mut self, _: Option<&str>) {}
    fn finish(&mut self) {}
}
