-- pgshred 0.1.0 -- plan user_app_state: the audit trail, and the ledger of runs and batches.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- migration_runs     one row per `pgshred apply` (or per by-hand session), with the plan's checksum
-- migration_batches  one row per batch of users: its users, status, row counts, error, duration
-- migration_audit_sets  per batch, user and entity: the legacy ids and the ids created for them
--                       (two arrays in the same order); rollback deletes exactly what they name
-- migration_audit       a view of the same, one row per row created: user, source entity,
--                       legacy id -> target table and id
--
-- Safe to run more than once. Run after 01_schema.sql:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 --single-transaction -f 02_audit.sql

CREATE SCHEMA IF NOT EXISTS "pgshred";

CREATE TABLE IF NOT EXISTS "pgshred"."migration_runs" (
    "id"              bigserial   PRIMARY KEY,
    "plan"            text        NOT NULL,
    "plan_checksum"   text        NOT NULL,
    "status"          text        NOT NULL DEFAULT 'running'
                      CHECK ("status" IN ('running', 'completed', 'failed', 'rolled_back')),
    "options"         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    "high_water_mark" timestamptz,
    "started_at"      timestamptz NOT NULL DEFAULT now(),
    "finished_at"     timestamptz,
    "error"           text
);

CREATE TABLE IF NOT EXISTS "pgshred"."migration_batches" (
    "id"          bigserial   PRIMARY KEY,
    "run_id"      bigint      NOT NULL REFERENCES "pgshred"."migration_runs" ("id"),
    "seq"         integer     NOT NULL,
    "user_ids"    text[]      NOT NULL,
    "status"      text        NOT NULL DEFAULT 'pending'
                  CHECK ("status" IN ('pending', 'running', 'done', 'failed', 'rolled_back')),
    "rows"        jsonb,
    "error"       jsonb,
    "started_at"  timestamptz,
    "finished_at" timestamptz,
    "duration_ms" bigint,
    CONSTRAINT "migration_batches_run_id_seq_key" UNIQUE ("run_id", "seq")
);

-- One row per user and entity rather than per created row: the audit is written in the same
-- transaction as every batch, and a row per created row (with its indexes and keys) cost about a
-- third of a batch's time in the benchmark.
CREATE TABLE IF NOT EXISTS "pgshred"."migration_audit_sets" (
    "id"            bigserial   PRIMARY KEY,
    "run_id"        bigint      NOT NULL REFERENCES "pgshred"."migration_runs" ("id"),
    "batch_id"      bigint      NOT NULL REFERENCES "pgshred"."migration_batches" ("id"),
    "user_id"       text        NOT NULL,
    "source_entity" text        NOT NULL,
    "target_table"  text        NOT NULL,
    "legacy_ids"    text[]      NOT NULL,
    "target_ids"    uuid[]      NOT NULL,
    "created_at"    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "migration_audit_sets_same_length" CHECK (cardinality("legacy_ids") = cardinality("target_ids"))
);
-- Which users a plan has migrated, and by which batch: what `pgshred apply` skips. A user whose
-- document yields no rows is migrated all the same; a rollback makes its users eligible again.
CREATE TABLE IF NOT EXISTS "pgshred"."migration_users" (
    "plan"        text        NOT NULL,
    "user_id"     text        NOT NULL,
    "run_id"      bigint      NOT NULL REFERENCES "pgshred"."migration_runs" ("id"),
    "batch_id"    bigint      NOT NULL REFERENCES "pgshred"."migration_batches" ("id"),
    "migrated_at" timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("plan", "user_id")
);
CREATE INDEX IF NOT EXISTS "migration_users_batch_id_idx" ON "pgshred"."migration_users" ("batch_id");

-- Users `apply --max-bad-users` set aside: their documents cannot be migrated as they are. They
-- have no rows in the target tables; `apply` skips them until `--retry-quarantined`, and leaves
-- this table when a retry migrates them.
CREATE TABLE IF NOT EXISTS "pgshred"."migration_quarantine" (
    "plan"           text        NOT NULL,
    "user_id"        text        NOT NULL,
    "run_id"         bigint      NOT NULL REFERENCES "pgshred"."migration_runs" ("id"),
    "batch_id"       bigint      NOT NULL REFERENCES "pgshred"."migration_batches" ("id"),
    "entity"         text,
    "legacy_id"      text,
    "path"           text,
    "value"          jsonb,
    "error"          text        NOT NULL,
    "sqlstate"       text,
    "quarantined_at" timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("plan", "user_id")
);

CREATE INDEX IF NOT EXISTS "migration_audit_sets_batch_id_idx" ON "pgshred"."migration_audit_sets" ("batch_id");
CREATE INDEX IF NOT EXISTS "migration_audit_sets_run_id_idx" ON "pgshred"."migration_audit_sets" ("run_id");
CREATE INDEX IF NOT EXISTS "migration_audit_sets_user_id_idx" ON "pgshred"."migration_audit_sets" ("user_id");

-- The audit one row per created row, for people and reports. A row is created once: a re-run
-- inserts nothing and so audits nothing. On PostgreSQL 15 and later the view reads the table with
-- the reader's rights, so row-level security applies through it; before 15 a view reads with its
-- owner's, so it is kept from everyone else.
DO $$
BEGIN
    EXECUTE format($view$
        CREATE OR REPLACE VIEW "pgshred"."migration_audit" %s AS
        SELECT s."id" AS "set_id", u."position", s."run_id", s."batch_id", s."user_id", s."source_entity",
               u."legacy_id", s."target_table", u."target_id", s."created_at"
          FROM "pgshred"."migration_audit_sets" AS s
         CROSS JOIN LATERAL unnest(s."legacy_ids", s."target_ids") WITH ORDINALITY AS u("legacy_id", "target_id", "position")
    $view$, CASE WHEN current_setting('server_version_num')::int >= 150000
                 THEN 'WITH (security_invoker = true)' ELSE '' END);
    IF current_setting('server_version_num')::int < 150000 THEN
        REVOKE ALL ON "pgshred"."migration_audit" FROM PUBLIC;
    END IF;
END
$$;

-- Application roles have no business here: with RLS on and no policy they see nothing. The owner
-- (the role pgshred runs as) is not subject to RLS.
ALTER TABLE "pgshred"."migration_runs" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "pgshred"."migration_batches" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "pgshred"."migration_audit_sets" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "pgshred"."migration_users" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "pgshred"."migration_quarantine" ENABLE ROW LEVEL SECURITY;

-- The batch being applied comes from transaction-local settings (set_config(..., true)), which
-- survive transaction-mode poolers, unlike session SETs.
CREATE OR REPLACE FUNCTION "pgshred".setting(name text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    v text := current_setting('pgshred.' || name, true);
BEGIN
    IF v IS NULL OR v = '' THEN
        RAISE EXCEPTION 'pgshred: setting pgshred.% is not set', name
            USING HINT = 'run the script through pgshred apply, or call pgshred.begin_batch(plan, users) first in the same transaction';
    END IF;
    RETURN v;
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".run_id() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT "pgshred".setting('run_id')::bigint
$$;

CREATE OR REPLACE FUNCTION "pgshred".batch_id() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT "pgshred".setting('batch_id')::bigint
$$;

CREATE OR REPLACE FUNCTION "pgshred".batch_users() RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT "pgshred".setting('batch_users')::text[]
$$;

-- Users a verification looks at: the current batch when one is set, otherwise everyone (NULL).
CREATE OR REPLACE FUNCTION "pgshred".scope_users() RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('pgshred.batch_users', true), '')::text[]
$$;

-- For running 03_forward.sql by hand: records a batch (and a run, unless pgshred.run_id is set)
-- and sets the transaction-local settings the scripts read. Returns the batch id.
CREATE OR REPLACE FUNCTION "pgshred".begin_batch(plan text, users text[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    run bigint := NULLIF(current_setting('pgshred.run_id', true), '')::bigint;
    batch bigint;
BEGIN
    IF run IS NULL THEN
        INSERT INTO "pgshred"."migration_runs" ("plan", "plan_checksum", "options")
        VALUES (plan, 'by-hand', '{"by_hand": true}'::jsonb)
        RETURNING "id" INTO run;
        PERFORM set_config('pgshred.run_id', run::text, true);
    END IF;
    INSERT INTO "pgshred"."migration_batches" ("run_id", "seq", "user_ids", "status", "started_at")
    VALUES (run,
            (SELECT coalesce(max(b."seq"), 0) + 1 FROM "pgshred"."migration_batches" AS b WHERE b."run_id" = run),
            users, 'running', now())
    RETURNING "id" INTO batch;
    PERFORM set_config('pgshred.batch_id', batch::text, true);
    PERFORM set_config('pgshred.batch_users', users::text, true);
    RETURN batch;
END
$$;

-- For 05_rollback.sql: which audit rows the rollback selects. At least one selector must be set.
CREATE OR REPLACE FUNCTION "pgshred".rollback_guard() RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF coalesce(current_setting('pgshred.rollback_run', true), '') = ''
       AND coalesce(current_setting('pgshred.rollback_batch', true), '') = ''
       AND coalesce(current_setting('pgshred.rollback_user', true), '') = '' THEN
        RAISE EXCEPTION 'pgshred: nothing selected to roll back'
            USING HINT = 'set pgshred.rollback_run, pgshred.rollback_batch and/or pgshred.rollback_user first (see the header of 05_rollback.sql)';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".rollback_selected(run_id bigint, batch_id bigint, user_id text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    -- An unset selector reads as NULL and matches everything (SQL does not promise to evaluate
    -- OR from left to right, so the casts themselves must cope with an empty setting).
    SELECT coalesce(run_id = NULLIF(current_setting('pgshred.rollback_run', true), '')::bigint, true)
       AND coalesce(batch_id = NULLIF(current_setting('pgshred.rollback_batch', true), '')::bigint, true)
       AND coalesce(user_id = NULLIF(current_setting('pgshred.rollback_user', true), ''), true)
$$;

-- The executor's ledger operations, kept here so every statement it runs against the ledger can be
-- reviewed. A run's batches are planned up front; a batch is marked done in the same transaction
-- that writes its rows, so a crash leaves it pending and a resumed run redoes exactly it.
CREATE OR REPLACE FUNCTION "pgshred".start_run(plan text, checksum text, options jsonb, users text[], batch_size integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    run bigint;
BEGIN
    INSERT INTO "pgshred"."migration_runs" ("plan", "plan_checksum", "options")
    VALUES (plan, checksum, options)
    RETURNING "id" INTO run;
    INSERT INTO "pgshred"."migration_batches" ("run_id", "seq", "user_ids")
    SELECT run, (g.n / batch_size) + 1, array_agg(u.user_id ORDER BY u.n)
      FROM unnest(users) WITH ORDINALITY AS u(user_id, n)
      CROSS JOIN LATERAL (SELECT u.n - 1 AS n) AS g
     GROUP BY (g.n / batch_size) + 1;
    RETURN run;
END
$$;

-- Rows a batch created, per target table, as the audit records them.
CREATE OR REPLACE FUNCTION "pgshred".batch_rows(batch bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(t.target_table, t.n), '{}'::jsonb)
      FROM (SELECT a."target_table", sum(cardinality(a."target_ids")) AS n
              FROM "pgshred"."migration_audit_sets" AS a
             WHERE a."batch_id" = batch
             GROUP BY a."target_table") AS t
$$;

-- Sets a user aside (see migration_quarantine); `problem` is the error as the executor read it.
CREATE OR REPLACE FUNCTION "pgshred".quarantine_user(user_id text, batch bigint, problem jsonb)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO "pgshred"."migration_quarantine" AS q
           ("plan", "user_id", "run_id", "batch_id", "entity", "legacy_id", "path", "value", "error", "sqlstate")
    SELECT r."plan", user_id, b."run_id", b."id", problem ->> 'entity', problem ->> 'legacy_id',
           problem ->> 'path', problem -> 'value', problem ->> 'message', problem ->> 'sqlstate'
      FROM "pgshred"."migration_batches" AS b
      JOIN "pgshred"."migration_runs" AS r ON r."id" = b."run_id"
     WHERE b."id" = batch
        ON CONFLICT ("plan", "user_id") DO UPDATE
       SET "run_id" = EXCLUDED."run_id", "batch_id" = EXCLUDED."batch_id", "entity" = EXCLUDED."entity",
           "legacy_id" = EXCLUDED."legacy_id", "path" = EXCLUDED."path", "value" = EXCLUDED."value",
           "error" = EXCLUDED."error", "sqlstate" = EXCLUDED."sqlstate", "quarantined_at" = now();
$$;

-- Marks a batch done and its users migrated, except the users it quarantined; a user quarantined
-- earlier and migrated by this batch (a retry) leaves the quarantine.
CREATE OR REPLACE FUNCTION "pgshred".finish_batch(batch bigint, started timestamptz)
RETURNS jsonb LANGUAGE sql AS $$
    DELETE FROM "pgshred"."migration_quarantine" AS q
     USING "pgshred"."migration_batches" AS b
      JOIN "pgshred"."migration_runs" AS r ON r."id" = b."run_id"
     WHERE b."id" = batch AND q."plan" = r."plan" AND q."user_id" = ANY (b."user_ids")
       AND q."batch_id" <> batch;
    INSERT INTO "pgshred"."migration_users" ("plan", "user_id", "run_id", "batch_id")
    SELECT r."plan", u.user_id, b."run_id", b."id"
      FROM "pgshred"."migration_batches" AS b
      JOIN "pgshred"."migration_runs" AS r ON r."id" = b."run_id"
     CROSS JOIN LATERAL unnest(b."user_ids") AS u(user_id)
     WHERE b."id" = batch
       AND NOT EXISTS (SELECT 1 FROM "pgshred"."migration_quarantine" AS q
                        WHERE q."plan" = r."plan" AND q."user_id" = u.user_id)
        ON CONFLICT ("plan", "user_id") DO UPDATE
       SET "run_id" = EXCLUDED."run_id", "batch_id" = EXCLUDED."batch_id", "migrated_at" = EXCLUDED."migrated_at";
    UPDATE "pgshred"."migration_batches"
       SET "status" = 'done', "rows" = "pgshred".batch_rows(batch), "error" = NULL,
           "started_at" = started, "finished_at" = clock_timestamp(),
           "duration_ms" = (extract(epoch FROM clock_timestamp() - started) * 1000)::bigint
     WHERE "id" = batch
    RETURNING "rows"
$$;

CREATE OR REPLACE FUNCTION "pgshred".fail_batch(batch bigint, started timestamptz, problem jsonb)
RETURNS void LANGUAGE sql AS $$
    UPDATE "pgshred"."migration_batches"
       SET "status" = 'failed', "error" = problem, "started_at" = started, "finished_at" = clock_timestamp(),
           "duration_ms" = (extract(epoch FROM clock_timestamp() - started) * 1000)::bigint
     WHERE "id" = batch;
    UPDATE "pgshred"."migration_runs" AS r
       SET "status" = 'failed', "error" = problem ->> 'message'
      FROM "pgshred"."migration_batches" AS b
     WHERE b."id" = batch AND r."id" = b."run_id";
$$;

CREATE OR REPLACE FUNCTION "pgshred".finish_run(run bigint)
RETURNS void LANGUAGE sql AS $$
    UPDATE "pgshred"."migration_runs"
       SET "status" = CASE WHEN EXISTS (SELECT 1 FROM "pgshred"."migration_batches" AS b
                                         WHERE b."run_id" = run AND b."status" <> 'done')
                           THEN "status" ELSE 'completed' END,
           "finished_at" = clock_timestamp(), "error" = NULL
     WHERE "id" = run;
$$;
