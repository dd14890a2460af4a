//! Planning a run: which users, in which batches, doing what. New users, users whose mapping
//! changed (`--remap`) or whose source changed (`--sync`), backfills of added entities; or the
//! unfinished run `--resume` and `--join` pick up.

use std::collections::{BTreeMap, BTreeSet};

use postgres::{Client, GenericClient};
use serde_json::json;

use super::context::Ctx;
use super::progress::Reporter;
use super::sql::{self, NewRun, RunUsers};
use super::{ApplyOptions, Scope, Start};
use crate::Error;
use crate::ir::Plan;
use crate::versions::Versions;

/// Starts a new run (batches planned up front) or picks up the unfinished one with `--resume`.
pub(super) fn plan_run(
    client: &mut Client,
    planner: Ctx,
    work: &[sql::Rework],
    out: &mut dyn Reporter,
) -> Result<Option<(i64, usize, usize)>, Error> {
    let Ctx {
        plan,
        q,
        opts,
        files,
        ..
    } = planner;
    let sum = files.checksum();
    let unfinished = q.unfinished_run(client, &plan.name)?;
    if opts.start == Start::Join && unfinished.is_none() {
        return Err(Error::refused(
            format!("there is no unfinished run of plan {} to join", plan.name),
            "start the run first (pgshred apply PLAN), then --join from other processes or machines",
        ));
    }
    match (unfinished, opts.scope().is_none()) {
        (Some((run, old_sum)), true) => {
            if old_sum != sum {
                return Err(Error::refused(
                    format!(
                        "the compiled SQL changed since run {run} started (checksum {} -> {})",
                        &old_sum[..12.min(old_sum.len())],
                        &sum[..12]
                    ),
                    format!(
                        "finish run {run} with the plan it started with, or roll it back first: pgshred rollback PLAN --run {run}"
                    ),
                ));
            }
            let (batches, users) = q.pending_totals(client, run)?;
            q.resume_run(client, run)?;
            out.line(&format!("resuming run {run}: {batches} batches left"));
            Ok(Some((run, batches, users)))
        }
        (None, true) => Err(Error::refused(
            format!("there is no unfinished run of plan {} to resume", plan.name),
            "start a new run without --resume; `pgshred status PLAN` lists the runs",
        )),
        (Some((run, _)), false) => {
            let (done, total) = q.batch_progress(client, run)?;
            Err(Error::refused(
                format!(
                    "run {run} of plan {} is unfinished ({done} of {total} batches done)",
                    plan.name
                ),
                format!(
                    "continue it with --resume, or roll it back: pgshred rollback PLAN --run {run}"
                ),
            ))
        }
        (None, false) => {
            let Some((run, batches, users)) = new_run(client, planner, work)? else {
                return Ok(None);
            };
            out.line(&format!(
                "run {run}: {users} users in {batches} batches of up to {}",
                opts.batches.size
            ));
            Ok(Some((run, batches, users)))
        }
    }
}

/// Starts a run of the users the options select, its batches planned in the database.
/// Returns the run, its batches and users; `None` when no user needs migrating.
fn new_run(
    client: &mut Client,
    planner: Ctx,
    work: &[sql::Rework],
) -> Result<Option<(i64, usize, usize)>, Error> {
    let Ctx {
        plan,
        q,
        versions,
        opts,
        files,
        ..
    } = planner;
    let rework = opts.rework();
    let options = json!({
        "batch_size": opts.batches.size,
        "limit": opts.limit(),
        "users": opts.users(),
        "lock_timeout": opts.batches.lock_timeout,
        "statement_timeout": opts.batches.statement_timeout,
        "max_bad_users": opts.batches.max_bad_users,
        "retry_quarantined": opts.retry_quarantined(),
        "remap": rework.remap,
        "sync": rework.sync,
        "pgshred": env!("CARGO_PKG_VERSION"),
    });
    let listed = listed_users(client, q, opts)?;
    let current = versions.map(None);
    q.start_run(
        client,
        &NewRun {
            plan: &plan.name,
            checksum: &files.checksum(),
            options: &options,
            size: opts.batches.size,
            versions: &current,
            users: run_users(opts, work, &listed),
        },
    )
}

/// The users `--user` names, each checked to exist and to fit an index; none without `--user`.
pub(super) fn listed_users(
    client: &mut impl GenericClient,
    q: &sql::Queries,
    opts: &ApplyOptions,
) -> Result<Vec<String>, Error> {
    let users = opts.users();
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let found = q.existing_users(client, users)?;
    let missing: Vec<_> = users
        .iter()
        .filter(|u| !found.contains(u))
        .map(|u| crate::ids::shown_user(u))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Input(format!(
            "no source row for user {}",
            missing.join(", ")
        )));
    }
    if let Some(long) = found.iter().find(|u| u.len() > crate::ids::MAX_ID_BYTES) {
        return Err(Error::Input(format!(
            "user id {:?}... is {} bytes long; at most {} can be migrated (an index entry holds at most 2,704 bytes)",
            long.chars().take(40).collect::<String>(),
            long.len(),
            crate::ids::MAX_ID_BYTES
        )));
    }
    Ok(found)
}

/// Who a new run takes: the users `--user` listed, or those the run plans (the work on migrated
/// users, then new users, under `--limit`).
pub(super) fn run_users<'a>(
    opts: &ApplyOptions,
    work: &'a [sql::Rework],
    listed: &'a [String],
) -> RunUsers<'a> {
    match opts.scope() {
        Some(Scope::Users(_)) => RunUsers::Listed(listed),
        _ => RunUsers::Planned {
            work,
            limit: opts.limit().map(|l| l as i64),
            quarantined: opts.retry_quarantined(),
        },
    }
}

/// What a new run does to users already migrated: with `--sync`, everything again for those whose
/// source changed; for each group of users migrated with the same mapping versions, the entities
/// they lack (a backfill) and, with `--remap`, the changed ones and those below them. Refused
/// when a mapping changed that `--remap` does not name. With `--retry-quarantined`, only the
/// migrated users a sync quarantined: they still have their previous document's rows, replaced.
pub(super) fn rework(
    client: &mut Client,
    plan: &Plan,
    q: &sql::Queries,
    versions: &Versions,
    opts: &ApplyOptions,
    out: &mut dyn Reporter,
) -> Result<Vec<sql::Rework>, Error> {
    let asked = opts.rework();
    let remap: BTreeSet<String> = asked.remap.iter().cloned().collect();
    if let Some(unknown) = remap.iter().find(|e| !versions.contains(e)) {
        return Err(Error::Input(format!(
            "--remap {unknown}: the plan has no entity {unknown} (it has {})",
            versions.names().collect::<Vec<_>>().join(", ")
        )));
    }
    if !q.has_ledger(client)? {
        return Ok(Vec::new());
    }
    if opts.retry_quarantined() {
        return Ok(vec![sql::Rework {
            users: sql::Reworked::Quarantined,
            entities: versions.map(None),
            replace: true,
        }]);
    }
    let sync = asked.sync.then(|| plan.source.order_column.clone());
    let groups = q.version_groups(client, &plan.name, sync.as_deref())?;
    let mut work = Vec::new();
    let changed: i64 = groups.iter().filter(|g| g.1).map(|g| g.2).sum();
    if let Some(order) = sync.as_ref().filter(|_| changed > 0) {
        out.line(&format!(
            "{} changed at the source (newer {order}, or gone): re-migrating {} whole",
            crate::stdout::plural(changed as usize, "migrated user", "migrated users"),
            if changed == 1 { "it" } else { "them" }
        ));
        work.push(sql::Rework {
            users: sql::Reworked::Changed {
                order: order.clone(),
            },
            entities: versions.map(None),
            replace: true,
        });
    }
    let refused = group_work(&groups, versions, &remap, sync.as_deref(), &mut work, out);
    if refused.is_empty() {
        return Ok(work);
    }
    Err(remap_refusal(versions, &refused))
}

/// The work each group of migrated users (with the same recorded versions, unchanged at the
/// source) needs, appended to `work`; returns the changed entities `--remap` does not name, with
/// how many users have an older version of them.
fn group_work(
    groups: &[(serde_json::Value, bool, i64)],
    versions: &Versions,
    remap: &BTreeSet<String>,
    sync: Option<&str>,
    work: &mut Vec<sql::Rework>,
    out: &mut dyn Reporter,
) -> BTreeMap<String, i64> {
    let mut refused: BTreeMap<String, i64> = BTreeMap::new();
    // Users changed at the source are taken whole, whatever versions they have.
    for (recorded, _, users) in groups.iter().filter(|g| !g.1) {
        let users = *users;
        let empty = serde_json::Map::new();
        let map = recorded.as_object().unwrap_or(&empty);
        match versions.need(map, remap) {
            Ok(None) => {}
            Ok(Some(need)) => {
                let (again, new): (Vec<&String>, Vec<&String>) =
                    need.entities.iter().partition(|e| map.contains_key(*e));
                let join =
                    |v: &[&String]| v.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
                let said: Vec<String> = [("re-migrate", join(&again)), ("backfill", join(&new))]
                    .into_iter()
                    .filter(|(_, e)| !e.is_empty())
                    .map(|(what, e)| format!("{what} {e}"))
                    .collect();
                out.line(&format!("{users} migrated users: {}", said.join("; ")));
                work.push(sql::Rework {
                    users: sql::Reworked::Group {
                        recorded: recorded.clone(),
                        sync: sync.map(str::to_string),
                    },
                    entities: versions.map(Some(&need.entities)),
                    replace: need.replace,
                });
            }
            Err(changed) => {
                for e in changed {
                    *refused.entry(e).or_default() += users;
                }
            }
        }
    }
    refused
}

/// Why a run is refused when mappings changed that `--remap` does not name, and what to run.
fn remap_refusal(versions: &Versions, refused: &BTreeMap<String, i64>) -> Error {
    let entities: Vec<String> = refused.keys().cloned().collect();
    let said: Vec<String> = refused
        .iter()
        .map(|(e, n)| format!("{e} ({n} users migrated with an older version)"))
        .collect();
    let below: Vec<String> = versions
        .with_dependents(&entities)
        .into_iter()
        .filter(|e| !entities.contains(e))
        .collect();
    Error::refused(
        format!(
            "the mapping of {} changed since users were migrated with it; nothing was written",
            said.join(", ")
        ),
        format!(
            "`pgshred diff PLAN --against REV` shows what changed. To re-migrate those users' rows batch by batch (rollback restores the old ones), run again with {}{}; or put the old mapping back",
            entities
                .iter()
                .map(|e| format!("--remap {e}"))
                .collect::<Vec<_>>()
                .join(" "),
            if below.is_empty() {
                String::new()
            } else {
                format!(" (also re-migrates {}, which hang below)", below.join(", "))
            }
        ),
    )
}
