//! Documents of every shape on Citus: each fixture under `tests/plans/` distributed by user, run
//! with both engines, against the same plan on plain PostgreSQL.

use std::path::Path;

use super::*;

/// Every shape's fixture (nested, keyed, scalar, rooted, recursive, routed, linked and
/// referenced entities, a parent naming its child) with `distribute_by: user_id`: the default
/// engine and `--engine sql` each write the rows the plan writes on plain PostgreSQL, and
/// `verify --roundtrip` finds what it finds there. The source table stays on the coordinator for
/// every other shape, and is distributed for the rest.
pub(super) fn every_shape_on_citus(url: &str) {
    let shapes: Vec<String> = {
        let mut s: Vec<String> = std::fs::read_dir(common::root().join("tests/plans"))
            .unwrap()
            .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        s.sort();
        s
    };
    assert!(shapes.len() >= 16, "{shapes:?}");
    let dir = TempDir::new("citus_shapes");
    for (i, shape) in shapes.iter().enumerate() {
        let fixture = format!("tests/plans/{shape}/source.json");
        let plain_plan = format!("tests/plans/{shape}/plan.yaml");
        // On plain PostgreSQL, as tests/shapes.rs runs it.
        let plain = common::fresh_db(&format!("citus_shape_{shape}"));
        common::load_source(&mut connect(&plain), &fixture);
        let plain_out = ok(
            pgshred(
                &plain,
                &[
                    "apply",
                    &plain_plan,
                    "--create-schema",
                    "--allow-duplicates",
                ],
                &[],
            ),
            &format!("{shape} on plain PostgreSQL"),
        );
        let expected = rows_of(&plain, &plain_plan);
        let expected_trip = round_trip(&plain, &plain_plan);
        assert!(plain_out.contains("rows created"), "{plain_out}");
        // On Citus: its own source table and schema, beside the other shapes'.
        let plan = distributed_copy(dir.path(), shape);
        let plan = plan.to_str().unwrap();
        load_source_as(url, &fixture, &format!("src_{shape}"));
        let o = pgshred(
            url,
            &["apply", plan, "--create-schema", "--user", "nobody"],
            &[],
        );
        assert!(
            String::from_utf8_lossy(&o.stderr)
                .contains("applied 01_schema.sql, 01b_distribute.sql"),
            "{shape}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let distributed_source = i % 2 == 1;
        if distributed_source {
            connect(url)
                .batch_execute(&format!(
                    "ALTER TABLE public.src_{shape} DROP CONSTRAINT src_{shape}_pkey; \
                     SELECT create_distributed_table('public.src_{shape}', 'user_id', \
                            colocate_with => (SELECT logicalrelid::text FROM pg_dist_partition \
                                               WHERE logicalrelid::text LIKE 's_{shape}.%' \
                                               ORDER BY 1 LIMIT 1))"
                ))
                .unwrap();
        }
        for engine in ["copy", "sql"] {
            let what = format!(
                "{shape} with --engine {engine} (source distributed: {distributed_source})"
            );
            let out = ok(
                pgshred(
                    url,
                    &[
                        "apply",
                        plan,
                        "--allow-duplicates",
                        "--engine",
                        engine,
                        "--batch-size",
                        "2",
                    ],
                    &[],
                ),
                &what,
            );
            assert_eq!(rows_of(url, plan), expected, "{what}");
            assert_eq!(round_trip(url, plan), expected_trip, "{what}");
            let run = run_of(&out);
            ok(
                pgshred(url, &["rollback", plan, "--run", &run, "--yes"], &[]),
                &format!("rollback of {what}"),
            );
        }
    }
}

/// The shape's plan and mappings copied into `dir/<shape>`, distributed by user, its tables in
/// schema `s_<shape>` and its source table `src_<shape>`.
fn distributed_copy(dir: &Path, shape: &str) -> std::path::PathBuf {
    let from = common::root().join("tests/plans").join(shape);
    let to = dir.join(shape);
    std::fs::create_dir_all(to.join("mappings")).unwrap();
    for f in std::fs::read_dir(from.join("mappings")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, to.join("mappings").join(f.file_name().unwrap())).unwrap();
    }
    let plan = std::fs::read_to_string(from.join("plan.yaml")).unwrap();
    let edited = plan
        .replace(
            "target: { schema: public }",
            &format!("target: {{ schema: s_{shape}, layout: {{ distribute_by: user_id }} }}"),
        )
        .replace("table: user_app_state,", &format!("table: src_{shape},"));
    assert_ne!(
        edited, plan,
        "{shape}: its plan names its target and source as expected"
    );
    std::fs::write(to.join("plan.yaml"), edited).unwrap();
    to.join("plan.yaml")
}

/// The rows of `fixture` as the table `public.<table>` on the coordinator.
fn load_source_as(url: &str, fixture: &str, table: &str) {
    let rows: serde_json::Value = serde_json::from_str(&common::read(fixture)).unwrap();
    let c = &mut connect(url);
    c.batch_execute(&format!(
        "CREATE TABLE public.{table} (id bigint PRIMARY KEY, user_id text NOT NULL, \
         updated_at timestamptz NOT NULL, state jsonb)"
    ))
    .unwrap();
    c.execute(
        &format!(
            "INSERT INTO public.{table} SELECT (r->>'id')::bigint, r->>'user_id', \
                    (r->>'updated_at')::timestamptz, r->'state' FROM jsonb_array_elements($1::jsonb) AS r"
        ),
        &[&rows],
    )
    .unwrap();
}

/// Every row of the plan's tables (without timestamps), one text per table.
fn rows_of(url: &str, plan: &str) -> Vec<String> {
    let p = pgshred::validate::load_plan(&common::root().join(plan)).unwrap();
    let c = &mut connect(url);
    p.entities
        .iter()
        .map(|e| {
            c.query_one(
                &format!(
                    "SELECT coalesce(string_agg((to_jsonb(whole_row) - 'created_at' - 'updated_at')::text, \
                            E'\\n' ORDER BY whole_row.id), '') FROM {}.{} AS whole_row",
                    pgshred::ident::quote_ident(&p.target_schema),
                    pgshred::ident::quote_ident(&e.table)
                ),
                &[],
            )
            .unwrap()
            .get(0)
        })
        .collect()
}

/// What `verify --roundtrip` finds: its exit code and its summary line.
fn round_trip(url: &str, plan: &str) -> (Option<i32>, String) {
    let o = pgshred(url, &["verify", plan, "--roundtrip"], &[]);
    let (out, _) = text(&o);
    let summary = out
        .lines()
        .find(|l| l.contains("users compared"))
        .unwrap_or_else(|| panic!("{plan}: {out}"))
        .to_string();
    (o.status.code(), summary)
}
