//! Reading what was written on Citus: a document too large for the client, and row-level
//! security through the tables and the reconstruction view.

use super::*;

/// A document of over 3 MB, more than the default engine evaluates itself, is shredded by
/// 03_forward.sql on the cluster, in the same batch, and verified like any other.
pub(super) fn a_document_too_large_for_the_client(url: &str, plan: &str) {
    connect(url)
        .batch_execute(
            "INSERT INTO user_app_state (id, user_id, updated_at, state) \
             SELECT 9999, 'big-user', now(), jsonb_build_object('orgs', jsonb_agg(jsonb_build_object( \
                    'id', 'org-' || g, 'name', repeat('x', 1000), 'plan', 'free'))) \
               FROM generate_series(1, 3000) AS g",
        )
        .unwrap();
    let out = ok(
        pgshred(
            url,
            &[
                "apply",
                plan,
                "--allow-duplicates",
                "--user",
                "big-user",
                "--format",
                "json",
            ],
            &[],
        ),
        "apply of a large document",
    );
    let summary: serde_json::Value = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v.get("phases").is_some())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        summary["phases"].get("forward (sql)").is_some(),
        "{summary}"
    );
    assert_eq!(
        count(
            url,
            "SELECT count(*) FROM app_distributed.orgs WHERE user_id = 'big-user'"
        ),
        3000
    );
    let out = ok(
        pgshred(url, &["verify", plan, "--user", "big-user"], &[]),
        "verify",
    );
    assert!(
        out.contains("row counts match for every user and entity"),
        "{out}"
    );
}

/// Two users whose ids are uuids (what `auth.uid()` returns), migrated, each read through the
/// seven tables and the reconstruction view by an application role: each sees their own rows and
/// document only. The workers evaluate the policies, so the request's claim reaches them only
/// when set with `SET LOCAL` under `citus.propagate_set_commands = 'local'`; without it a reader
/// sees nothing (never another user's rows). Citus opens the workers' connections as the
/// application role, which must therefore be able to log in.
pub(super) fn reading_through_row_level_security_on_citus(url: &str, plan: &str) {
    const A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const B: &str = "aaaaaaaa-0000-4000-8000-000000000002";
    let c = &mut connect(url);
    c.batch_execute(&format!(
        "INSERT INTO user_app_state (id, user_id, updated_at, state) \
         SELECT 9000 + id, CASE user_id WHEN 'user-01' THEN '{A}' ELSE '{B}' END, updated_at, state \
           FROM user_app_state WHERE user_id IN ('user-01', 'user-02')"
    ))
    .unwrap();
    // One statement per message: Citus creates a role over one connection per node, outside a
    // transaction that touched distributed tables.
    for sql in [
        "CREATE ROLE app_reader LOGIN",
        "GRANT USAGE ON SCHEMA auth, app_distributed, pgshred TO app_reader",
        "GRANT SELECT ON ALL TABLES IN SCHEMA app_distributed TO app_reader",
        "GRANT SELECT ON pgshred.user_app_state_distributed_reconstructed TO app_reader",
    ] {
        c.batch_execute(sql).unwrap();
    }
    ok(
        pgshred(
            url,
            &[
                "apply",
                plan,
                "--allow-duplicates",
                "--user",
                A,
                "--user",
                B,
            ],
            &[],
        ),
        "apply of the two users",
    );
    for (me, other) in [(A, B), (B, A)] {
        let mut tx = c.transaction().unwrap();
        tx.batch_execute(&format!(
            "SET LOCAL citus.propagate_set_commands = 'local'; \
             SET LOCAL request.jwt.claim.sub = '{me}'; SET LOCAL ROLE app_reader"
        ))
        .unwrap();
        for t in common::TABLES {
            let table = pgshred::ident::quote_ident(t);
            let r = tx
                .query_one(
                    &format!(
                        "SELECT count(*), count(*) FILTER (WHERE user_id <> '{me}') \
                           FROM app_distributed.{table}"
                    ),
                    &[],
                )
                .unwrap();
            let (seen, others): (i64, i64) = (r.get(0), r.get(1));
            let own = count(
                url,
                &format!("SELECT count(*) FROM app_distributed.{table} WHERE user_id = '{me}'"),
            );
            assert!(
                seen == own && own > 0 && others == 0,
                "{t} as {me}: {seen} rows seen of {own}, {others} of others"
            );
        }
        let docs: Vec<String> = tx
            .query(
                "SELECT user_id FROM pgshred.user_app_state_distributed_reconstructed",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(docs, [me], "the view as {me}, not {other}");
        tx.rollback().unwrap();
    }
    // Without the claim on the workers, nothing: the policies fail closed.
    let mut tx = c.transaction().unwrap();
    tx.batch_execute(&format!(
        "SET LOCAL request.jwt.claim.sub = '{A}'; SET LOCAL ROLE app_reader"
    ))
    .unwrap();
    let seen: i64 = tx
        .query_one("SELECT count(*) FROM app_distributed.contents", &[])
        .unwrap()
        .get(0);
    assert_eq!(seen, 0);
}
