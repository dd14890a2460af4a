//! Throttling a run for a production primary and its replicas: `--max-rate`, `--pause-between`
//! and `--max-replica-lag`. Every wait ends early on a signal, so stopping stays prompt.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use postgres::Client;

use super::ApplyOptions;
use super::progress::Reporter;
use crate::Error;
use crate::pg::Context;

/// How often a worker looks at the standbys again while one lags.
const LAG_POLL: Duration = Duration::from_millis(500);

/// The lag of the standby furthest behind: its replay lag as the primary measures it
/// (`pg_stat_replication.replay_lag`), or none when it has replayed all it was sent. The lag
/// columns are NULL for a role that may not read them, which preflight refuses.
const WORST_STANDBY: &str = "\
SELECT coalesce(nullif(application_name, ''), host(client_addr), 'pid ' || pid) AS standby,
       CASE WHEN replay_lsn >= sent_lsn THEN 0
            ELSE coalesce(extract(epoch FROM replay_lag), 0) END::float8 AS lag
FROM pg_stat_replication
ORDER BY lag DESC, standby
LIMIT 1";

pub(super) struct Throttle {
    rate: Option<f64>,
    pause: Option<Duration>,
    max_lag: Option<Duration>,
    started: Instant,
    rows: AtomicI64,
}

impl Throttle {
    pub(super) fn new(opts: &ApplyOptions) -> Throttle {
        Throttle {
            rate: opts.pace.max_rate,
            pause: opts.pace.pause_between,
            max_lag: opts.pace.max_replica_lag,
            started: Instant::now(),
            rows: AtomicI64::new(0),
        }
    }

    /// After a batch commits, its worker waits until the rows written so far by every worker fit
    /// the rate, and for the pause.
    pub(super) fn after_batch(&self, rows: i64) {
        let total = self.rows.fetch_add(rows, Ordering::SeqCst) + rows;
        let mut wait = self.pause.unwrap_or_default();
        if let Some(rate) = self.rate {
            let due = Duration::from_secs_f64(total as f64 / rate);
            wait = wait.max(due.saturating_sub(self.started.elapsed()));
        }
        sleep_unless_stopped(wait);
    }

    /// Before a batch is claimed, waits while a standby's replay lag exceeds `--max-replica-lag`;
    /// `waiting` hears why (Some) when a wait starts or its figure changes, and None when it ends.
    pub(super) fn before_batch(
        &self,
        client: &mut Client,
        mut waiting: impl FnMut(Option<String>),
    ) -> Result<(), Error> {
        let Some(max) = self.max_lag else {
            return Ok(());
        };
        let mut waited = false;
        while !super::signals::stop_requested() {
            let Some((standby, lag)) = worst_standby(client)? else {
                break;
            };
            if lag <= max.as_secs_f64() {
                break;
            }
            waiting(Some(format!(
                "waiting: standby {standby} replays {lag:.1}s behind (--max-replica-lag {})",
                shown(max)
            )));
            waited = true;
            sleep_unless_stopped(LAG_POLL);
        }
        if waited {
            waiting(None);
        }
        Ok(())
    }
}

/// The standby furthest behind and its lag in seconds; None without standbys.
pub(super) fn worst_standby(client: &mut Client) -> Result<Option<(String, f64)>, Error> {
    let row = client
        .query_opt(WORST_STANDBY, &[])
        .context("reading the standbys' replay lag (pg_stat_replication)")?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// Says which standbys `--max-replica-lag` watches, and warns of those that report no replay
/// position (wal_receiver_status_interval = 0), whose lag cannot be watched. Refuses when this
/// role cannot see the lag, which needs the pg_monitor role (or pg_read_all_stats) or a
/// superuser.
pub(super) fn check_replicas(
    client: &mut Client,
    max: Duration,
    out: &mut dyn Reporter,
) -> Result<(), Error> {
    let row = client
        .query_one(
            "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                    OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),
                    (SELECT count(*) FROM pg_stat_replication),
                    ARRAY(SELECT coalesce(nullif(application_name, ''), host(client_addr), 'pid ' || pid)
                          FROM pg_stat_replication WHERE replay_lsn IS NULL ORDER BY 1)",
            &[],
        )
        .context("checking that the standbys' replay lag can be read")?;
    if !row.get::<_, bool>(0) {
        return Err(Error::refused(
            "--max-replica-lag: this role cannot read the standbys' replay lag in pg_stat_replication",
            "GRANT pg_monitor TO the migrating role (or pg_read_all_stats), or run without --max-replica-lag",
        ));
    }
    let (n, silent): (i64, Vec<String>) = (row.get(1), row.get(2));
    out.line(&format!(
        "watching the replay lag of {n} standby(s) streaming from this server (--max-replica-lag {}); standbys that connect later are watched too",
        shown(max)
    ));
    if !silent.is_empty() {
        out.line(&format!(
            "warning: standby(s) {} report no replay position (wal_receiver_status_interval = 0?), so their lag cannot be watched",
            silent.join(", ")
        ));
    }
    Ok(())
}

/// A duration as an operator wrote it, roughly: 500ms, 5s, 2.5s.
fn shown(d: Duration) -> String {
    if d.subsec_millis() != 0 && d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

fn sleep_unless_stopped(wait: Duration) {
    let until = Instant::now() + wait;
    while Instant::now() < until && !super::signals::stop_requested() {
        std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
    }
}
