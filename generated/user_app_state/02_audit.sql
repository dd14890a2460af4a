-- pgshred 0.1.0 -- plan user_app_state: the audit trail, and the ledger of runs and batches.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- migration_runs     one row per `pgshred apply` (or per by-hand session), with the plan's checksum
-- migration_batches  one row per batch of users: its users, status, row counts, error, duration
-- migration_audit_sets  per batch, user and entity: the legacy ids and the ids created for them
--                       (two arrays in the same order); rollback deletes exactly what they name
-- migration_audit       a view of the same, one row per row created: user, source entity,
--                       legacy id -> target table and id
-- migration_users       per user: the batch that last migrated it, the checksum of each entity's
--                       mapping it was migrated with, and the source row's updated_at it saw
-- migration_replaced, migration_replaced_users
--                       what a batch that re-migrated users (apply --sync, --remap, a backfill)
--                       replaced: rolling that batch back puts it back
--
-- Safe to run more than once. Run after 01_schema.sql:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 --single-transaction -f 02_audit.sql

CREATE SCHEMA IF NOT EXISTS "pgshred";

CREATE TABLE IF NOT EXISTS "pgshred"."migration_runs" (
    "id"              bigserial   PRIMARY KEY,
    "plan"            text        NOT NULL,
    "plan_checksum"   text        NOT NULL,
    "status"          text        NOT NULL DEFAULT 'running'
                      CHECK ("status" IN ('running', 'stopped', 'completed', 'failed', 'rolled_back')),
    "options"         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    "high_water_mark" timestamptz,
    -- The checksum of each entity's statement in 03_forward.sql when the run started.
    "entity_checksums" jsonb      NOT NULL DEFAULT '{}'::jsonb,
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
    -- The entities the batch migrates (entity -> checksum of its statement); NULL: all of them.
    "entities"    jsonb,
    -- Whether the rows its users already have of those entities are replaced (--sync, --remap).
    "replace"     boolean     NOT NULL DEFAULT false,
    -- Per user, the newest updated_at of its source rows as the batch began.
    "source_versions" jsonb,
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
    -- The batch that replaced these rows (moved them to migration_replaced); NULL while they live.
    "replaced_by"   bigint,
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
    -- entity -> checksum of the statement that migrated it for this user (see 03_forward.sql)
    "entities"    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- The newest updated_at of the user's source rows when it was migrated:
    -- `apply --sync` re-migrates the users whose source moved on since (or disappeared).
    "source_updated_at" timestamptz,
    PRIMARY KEY ("plan", "user_id")
);
CREATE INDEX IF NOT EXISTS "migration_users_batch_id_idx" ON "pgshred"."migration_users" ("batch_id");

-- What a batch replaced, so that rolling it back restores it exactly: the target rows it deleted
-- before re-migrating their users, and each user's ledger entry as it was before the batch.
CREATE TABLE IF NOT EXISTS "pgshred"."migration_replaced" (
    "batch_id"     bigint      NOT NULL REFERENCES "pgshred"."migration_batches" ("id"),
    "user_id"      text        NOT NULL,
    "target_table" text        NOT NULL,
    "row"          jsonb       NOT NULL
);
CREATE INDEX IF NOT EXISTS "migration_replaced_batch_id_idx" ON "pgshred"."migration_replaced" ("batch_id");
CREATE TABLE IF NOT EXISTS "pgshred"."migration_replaced_users" (
    "batch_id"     bigint      NOT NULL REFERENCES "pgshred"."migration_batches" ("id"),
    "user_id"      text        NOT NULL,
    "previous"     jsonb       NOT NULL,
    PRIMARY KEY ("batch_id", "user_id")
);

-- Databases set up by pgshred 0.1 get the columns added since.
ALTER TABLE "pgshred"."migration_runs" ADD COLUMN IF NOT EXISTS "entity_checksums" jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE "pgshred"."migration_batches" ADD COLUMN IF NOT EXISTS "entities" jsonb;
ALTER TABLE "pgshred"."migration_batches" ADD COLUMN IF NOT EXISTS "replace" boolean NOT NULL DEFAULT false;
ALTER TABLE "pgshred"."migration_batches" ADD COLUMN IF NOT EXISTS "source_versions" jsonb;
ALTER TABLE "pgshred"."migration_audit_sets" ADD COLUMN IF NOT EXISTS "replaced_by" bigint;
ALTER TABLE "pgshred"."migration_users" ADD COLUMN IF NOT EXISTS "entities" jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE "pgshred"."migration_users" ADD COLUMN IF NOT EXISTS "source_updated_at" timestamptz;
-- ... and the run status 'stopped' (a signal stopped the run; --resume continues it). The check
-- is replaced only where it lacks it, so re-running this file takes no lock on a current ledger.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                    WHERE conrelid = '"pgshred"."migration_runs"'::regclass
                      AND conname = 'migration_runs_status_check'
                      AND pg_catalog.pg_get_constraintdef(oid) LIKE '%''stopped''%') THEN
        ALTER TABLE "pgshred"."migration_runs" DROP CONSTRAINT IF EXISTS "migration_runs_status_check";
        ALTER TABLE "pgshred"."migration_runs" ADD CONSTRAINT "migration_runs_status_check"
            CHECK ("status" IN ('running', 'stopped', 'completed', 'failed', 'rolled_back'));
    END IF;
END
$$;

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

-- `apply --bulk`: the secondary indexes, unique keys and foreign keys of the (empty) target tables,
-- dropped for an initial load and restored after its last batch, in "seq" order, as pg_restore
-- does. Each row holds the statement that restores it (a foreign key is added NOT VALID, then
-- validated); "restored_at" is set in the transaction that ran it, so a crash at any point
-- resumes where it stopped.
CREATE TABLE IF NOT EXISTS "pgshred"."migration_deferred" (
    "run_id"      bigint      NOT NULL REFERENCES "pgshred"."migration_runs" ("id"),
    "seq"         integer     NOT NULL,
    "table_name"  text        NOT NULL,
    "name"        text        NOT NULL,
    "kind"        text        NOT NULL CHECK ("kind" IN ('index', 'unique', 'foreign_key')),
    "definition"  text        NOT NULL,
    "validation"  text,
    "restored_at" timestamptz,
    PRIMARY KEY ("run_id", "seq")
);

CREATE INDEX IF NOT EXISTS "migration_audit_sets_batch_id_idx" ON "pgshred"."migration_audit_sets" ("batch_id");
CREATE INDEX IF NOT EXISTS "migration_audit_sets_run_id_idx" ON "pgshred"."migration_audit_sets" ("run_id");
CREATE INDEX IF NOT EXISTS "migration_audit_sets_user_id_idx" ON "pgshred"."migration_audit_sets" ("user_id");
CREATE INDEX IF NOT EXISTS "migration_audit_sets_replaced_by_idx" ON "pgshred"."migration_audit_sets" ("replaced_by")
    WHERE "replaced_by" IS NOT NULL;

-- The audit one row per created row, for people and reports. A row is created once: a re-run
-- inserts nothing and so audits nothing. On PostgreSQL 15 and later the view reads the table with
-- the reader's rights, so row-level security applies through it; before 15 a view reads with its
-- owner's, so it is kept from everyone else.
DO $$
BEGIN
    EXECUTE format($view$
        CREATE OR REPLACE VIEW "pgshred"."migration_audit" %s AS
        SELECT s."id" AS "set_id", u."position", s."run_id", s."batch_id", s."user_id", s."source_entity",
               u."legacy_id", s."target_table", u."target_id", s."created_at", s."replaced_by"
          FROM "pgshred"."migration_audit_sets" AS s
         CROSS JOIN LATERAL unnest(s."legacy_ids", s."target_ids") WITH ORDINALITY AS u("legacy_id", "target_id",
             "position")
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
ALTER TABLE "pgshred"."migration_replaced" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "pgshred"."migration_replaced_users" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "pgshred"."migration_deferred" ENABLE ROW LEVEL SECURITY;

-- The batch being applied comes from transaction-local settings (set_config(..., true)), which
-- survive transaction-mode poolers, unlike session SETs.
CREATE OR REPLACE FUNCTION "pgshred".setting(name text)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v text := current_setting('pgshred.' || name, true);
BEGIN
    IF v IS NULL OR v = '' THEN
        RAISE EXCEPTION 'pgshred: setting pgshred.% is not set', name
            USING HINT = 'run the script through pgshred apply, or call '
                         'pgshred.begin_batch(plan, users) first in the same transaction';
    END IF;
    RETURN v;
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".run_id() RETURNS bigint LANGUAGE sql STABLE SET search_path = pg_catalog,
    pg_temp AS $$
    SELECT "pgshred".setting('run_id')::bigint
$$;

CREATE OR REPLACE FUNCTION "pgshred".batch_id() RETURNS bigint LANGUAGE sql STABLE SET search_path = pg_catalog,
    pg_temp AS $$
    SELECT "pgshred".setting('batch_id')::bigint
$$;

CREATE OR REPLACE FUNCTION "pgshred".batch_users() RETURNS text[] LANGUAGE sql STABLE SET search_path = pg_catalog,
    pg_temp AS $$
    SELECT "pgshred".setting('batch_users')::text[]
$$;

-- Users a verification looks at: the current batch when one is set, otherwise everyone (NULL).
CREATE OR REPLACE FUNCTION "pgshred".scope_users() RETURNS text[] LANGUAGE sql STABLE SET search_path = pg_catalog,
    pg_temp AS $$
    SELECT NULLIF(current_setting('pgshred.batch_users', true), '')::text[]
$$;

-- For running 03_forward.sql by hand: records a batch (and a run, unless pgshred.run_id is set)
-- and sets the transaction-local settings the scripts read. Returns the batch id.
CREATE OR REPLACE FUNCTION "pgshred".begin_batch(plan text, users text[])
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
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
CREATE OR REPLACE FUNCTION "pgshred".rollback_guard() RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog,
    pg_temp AS $$
BEGIN
    IF coalesce(current_setting('pgshred.rollback_run', true), '') = ''
       AND coalesce(current_setting('pgshred.rollback_batch', true), '') = ''
       AND coalesce(current_setting('pgshred.rollback_user', true), '') = '' THEN
        RAISE EXCEPTION 'pgshred: nothing selected to roll back'
            USING HINT = 'set pgshred.rollback_run, pgshred.rollback_batch and/or '
                         'pgshred.rollback_user first (see the header of 05_rollback.sql)';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".rollback_selected(run_id bigint, batch_id bigint, user_id text)
RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    -- An unset selector reads as NULL and matches everything (SQL does not promise to evaluate
    -- OR from left to right, so the casts themselves must cope with an empty setting).
    SELECT coalesce(run_id = NULLIF(current_setting('pgshred.rollback_run', true), '')::bigint, true)
       AND coalesce(batch_id = NULLIF(current_setting('pgshred.rollback_batch', true), '')::bigint, true)
       AND coalesce(user_id = NULLIF(current_setting('pgshred.rollback_user', true), ''), true)
$$;

-- The executor's ledger operations, kept here so every statement it runs against the ledger can be
-- reviewed. A run's batches are planned up front; a batch is marked done in the same transaction
-- that writes its rows, so a crash leaves it pending and a resumed run redoes exactly it.
-- Those that read or write the ledger are PL/pgSQL: Citus cannot plan a SQL function's parameters
-- against the ledger once it is in the cluster's metadata, and `#variable_conflict use_column`
-- resolves a name as a SQL function would. The time a row is stamped with is read first: Citus
-- takes no volatile function in an UPDATE, nor any but immutable ones in ON CONFLICT DO UPDATE.
-- Appends batches of at most `batch_size` users to a run, in the order `users` gives, after its
-- last batch; each runs `entities` (entity -> checksum of its statement; NULL: all) and replaces
-- the rows its users have of them or not. Returns how many users it planned. The one place a
-- run's users are cut into batches: `pgshred apply` plans every run (and its dry runs) with it.
CREATE OR REPLACE FUNCTION "pgshred".plan_batches(run bigint, users text[], batch_size integer, entities jsonb,
    replace boolean)
RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    last integer;
BEGIN
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'pgshred: batch size must be at least 1 (got %)', batch_size;
    END IF;
    SELECT coalesce(max(b."seq"), 0) INTO last FROM "pgshred"."migration_batches" AS b WHERE b."run_id" = run;
    INSERT INTO "pgshred"."migration_batches" ("run_id", "seq", "user_ids", "entities", "replace")
    SELECT run, last + (u.n - 1) / batch_size + 1, array_agg(u.user_id ORDER BY u.n), entities, replace
      FROM unnest(users) WITH ORDINALITY AS u(user_id, n)
     GROUP BY (u.n - 1) / batch_size;
    RETURN coalesce(cardinality(users), 0);
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".start_run(plan text, checksum text, options jsonb, users text[],
    batch_size integer)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    run bigint;
BEGIN
    INSERT INTO "pgshred"."migration_runs" ("plan", "plan_checksum", "options")
    VALUES (plan, checksum, options)
    RETURNING "id" INTO run;
    PERFORM "pgshred".plan_batches(run, users, batch_size, NULL, false);
    RETURN run;
END
$$;

-- Records the version of each entity's mapping a run applies, on the run and on its batches that
-- do not say otherwise.
CREATE OR REPLACE FUNCTION "pgshred".record_versions(run bigint, versions jsonb)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
    UPDATE "pgshred"."migration_runs" SET "entity_checksums" = versions WHERE "id" = run;
    UPDATE "pgshred"."migration_batches" SET "entities" = versions WHERE "run_id" = run AND "entities" IS NULL;
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".mark_run_rolled_back(run bigint)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    ended timestamptz := clock_timestamp();
BEGIN
    UPDATE "pgshred"."migration_runs" SET "status" = 'rolled_back', "finished_at" = ended WHERE "id" = run;
END
$$;

-- `apply --bulk`: records, then drops, the secondary indexes, unique keys and foreign keys of
-- `tables` (primary keys stay: they catch a duplicate id as the rows arrive). Unique keys that a
-- foreign key of another table depends on stay too. Returns how many were deferred.
CREATE OR REPLACE FUNCTION "pgshred".defer_constraints(run bigint, tables regclass[])
RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d record;
    n integer := 0;
BEGIN
    FOR d IN
        SELECT * FROM (
            -- Restored first: unique keys and plain indexes; foreign keys last, once every key
            -- they reference is back.
            SELECT 1 AS rank, c.conrelid::regclass::text AS tbl, c.conname::text AS name, 'unique' AS kind,
                   format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
                          pg_get_constraintdef(c.oid)) AS definition,
                   NULL::text AS validation
              FROM pg_constraint AS c
             WHERE c.conrelid = ANY (tables) AND c.contype = 'u'
               AND NOT EXISTS (SELECT 1 FROM pg_constraint AS f
                                WHERE f.contype = 'f' AND f.conindid = c.conindid
                                  AND f.conrelid <> ALL (tables))
            UNION ALL
            -- An index of a partitioned table reads `ON ONLY` (the table alone); built again, it
            -- is built on every partition.
            SELECT 1, i.indrelid::regclass::text, ic.relname::text, 'index',
                   regexp_replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON '), NULL
              FROM pg_index AS i
              JOIN pg_class AS ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = ANY (tables) AND NOT i.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c
                                WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
            UNION ALL
            -- A partitioned table takes no NOT VALID foreign key: it is added and checked at once.
            SELECT 2, c.conrelid::regclass::text, c.conname::text, 'foreign_key',
                   format('ALTER TABLE %s ADD CONSTRAINT %I %s%s', c.conrelid::regclass,
                          c.conname, pg_get_constraintdef(c.oid), CASE WHEN r.relkind <> 'p' THEN ' NOT VALID' END),
                   CASE WHEN r.relkind <> 'p' THEN
                       format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.conrelid::regclass, c.conname) END
              FROM pg_constraint AS c
              JOIN pg_class AS r ON r.oid = c.conrelid
             -- Not the copies a foreign key to a partitioned table has per partition.
             WHERE c.conrelid = ANY (tables) AND c.contype = 'f' AND c.conparentid = 0
        ) AS all_of_them
        ORDER BY rank, tbl, name
    LOOP
        n := n + 1;
        INSERT INTO "pgshred"."migration_deferred"
               ("run_id", "seq", "table_name", "name", "kind", "definition", "validation")
        VALUES (run, n, d.tbl, d.name, d.kind, d.definition, d.validation);
    END LOOP;
    -- Dropped in the reverse order: foreign keys before the keys they reference.
    FOR d IN
        SELECT x."kind", x."table_name", x."name"
          FROM "pgshred"."migration_deferred" AS x
         WHERE x."run_id" = run ORDER BY x."seq" DESC
    LOOP
        IF d.kind = 'index' THEN
            EXECUTE format('DROP INDEX %s', (SELECT i.indexrelid::regclass
                                               FROM pg_index AS i JOIN pg_class AS ic ON ic.oid = i.indexrelid
                                              WHERE i.indrelid = d.table_name::regclass AND ic.relname = d.name));
        ELSE
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', d.table_name, d.name);
        END IF;
    END LOOP;
    RETURN n;
END
$$;

-- Restores one deferred index or key of a --bulk run (nothing if it is back already).
CREATE OR REPLACE FUNCTION "pgshred".restore_deferred(run bigint, item integer)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ended timestamptz;
    d record;
BEGIN
    SELECT x."definition", x."validation" INTO d
      FROM "pgshred"."migration_deferred" AS x
     WHERE x."run_id" = run AND x."seq" = item AND x."restored_at" IS NULL
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    EXECUTE d.definition;
    IF d.validation IS NOT NULL THEN
        EXECUTE d.validation;
    END IF;
    ended := clock_timestamp();
    UPDATE "pgshred"."migration_deferred" SET "restored_at" = ended
     WHERE "run_id" = run AND "seq" = item;
END
$$;

-- Rows a batch created, per target table, as the audit records them.
CREATE OR REPLACE FUNCTION "pgshred".batch_rows(batch bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
    RETURN (SELECT coalesce(jsonb_object_agg(t.target_table, t.n), '{}'::jsonb)
          FROM (SELECT a."target_table", sum(cardinality(a."target_ids")) AS n
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch
                 GROUP BY a."target_table") AS t);
END
$$;

-- Sets a user aside (see migration_quarantine); `problem` is the error as the executor read it.
CREATE OR REPLACE FUNCTION "pgshred".quarantine_user(user_id text, batch bigint, problem jsonb)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    stamp timestamptz := now();
BEGIN
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
           "error" = EXCLUDED."error", "sqlstate" = EXCLUDED."sqlstate", "quarantined_at" = stamp;
END
$$;

-- Called at the top of 03_forward.sql, for the users of the batch (or of the part being tried).
-- It reads this plan's source and tables, so its name carries the plan's: the other functions here
-- are the same for every plan, and several plans may share one audit schema.
-- First it notes each user's source version (newest updated_at) before any
-- document is read. The batch runs REPEATABLE READ, so this and every statement after it read
-- the documents as of one snapshot; a row the application changes mid-batch is taken by the next
-- `apply --sync`. Then, before a batch re-migrates users (--sync,
-- --remap), the rows they have of the entities it runs are moved to migration_replaced, children
-- first, and their audit is marked replaced_by the batch; rolling the batch back puts them back.
CREATE OR REPLACE FUNCTION "pgshred"."user_app_state_begin_forward"()
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    batch bigint := "pgshred".batch_id();
    users text[] := "pgshred".batch_users();
    versions jsonb;
    entities jsonb;
BEGIN
    -- Read first, then written: on Citus the ledger and the source may live on different nodes,
    -- and an UPDATE of one with a subquery over the other is sent back and forth between them.
    SELECT jsonb_object_agg(v.user_id, v.updated) INTO versions
      FROM (SELECT s."user_id"::text AS user_id,
                   max(s."updated_at")::timestamptz AS updated
              FROM "public"."user_app_state" AS s
             WHERE s."user_id"::text = ANY (users)
             GROUP BY 1) AS v;
    UPDATE "pgshred"."migration_batches" AS b
       SET "source_versions" = coalesce(b."source_versions", '{}'::jsonb) || coalesce(versions, '{}'::jsonb)
     WHERE b."id" = batch;
    SELECT b."entities" INTO entities FROM "pgshred"."migration_batches" AS b WHERE b."id" = batch AND b."replace";
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF entities IS NULL OR entities ? 'inbox_items' THEN
        WITH gone AS (
            DELETE FROM "public"."inbox_items" AS t
             USING (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                     WHERE a."user_id" = ANY (users) AND a."source_entity" = 'inbox_items'
                       AND a."target_table" = 'inbox_items' AND a."replaced_by" IS NULL) AS a
             WHERE t."id" = a."id"
            RETURNING t.*
        )
        INSERT INTO "pgshred"."migration_replaced" ("batch_id", "user_id", "target_table", "row")
        SELECT batch, gone."user_id", 'inbox_items', to_jsonb(gone) FROM gone;
        UPDATE "pgshred"."migration_audit_sets" AS a SET "replaced_by" = batch
         WHERE a."user_id" = ANY (users) AND a."source_entity" = 'inbox_items'
           AND a."target_table" = 'inbox_items' AND a."replaced_by" IS NULL;
    END IF;
    IF entities IS NULL OR entities ? 'references' THEN
        WITH gone AS (
            DELETE FROM "public"."references" AS t
             USING (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                     WHERE a."user_id" = ANY (users) AND a."source_entity" = 'references'
                       AND a."target_table" = 'references' AND a."replaced_by" IS NULL) AS a
             WHERE t."id" = a."id"
            RETURNING t.*
        )
        INSERT INTO "pgshred"."migration_replaced" ("batch_id", "user_id", "target_table", "row")
        SELECT batch, gone."user_id", 'references', to_jsonb(gone) FROM gone;
        UPDATE "pgshred"."migration_audit_sets" AS a SET "replaced_by" = batch
         WHERE a."user_id" = ANY (users) AND a."source_entity" = 'references'
           AND a."target_table" = 'references' AND a."replaced_by" IS NULL;
    END IF;
    IF entities IS NULL OR entities ? 'leads' THEN
        WITH gone AS (
            DELETE FROM "public"."leads" AS t
             USING (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                     WHERE a."user_id" = ANY (users) AND a."source_entity" = 'leads'
                       AND a."target_table" = 'leads' AND a."replaced_by" IS NULL) AS a
             WHERE t."id" = a."id"
            RETURNING t.*
        )
        INSERT INTO "pgshred"."migration_replaced" ("batch_id", "user_id", "target_table", "row")
        SELECT batch, gone."user_id", 'leads', to_jsonb(gone) FROM gone;
        UPDATE "pgshred"."migration_audit_sets" AS a SET "replaced_by" = batch
         WHERE a."user_id" = ANY (users) AND a."source_entity" = 'leads'
           AND a."target_table" = 'leads' AND a."replaced_by" IS NULL;
    END IF;
    IF entities IS NULL OR entities ? 'accounts' THEN
        WITH gone AS (
            DELETE FROM "public"."accounts" AS t
             USING (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                     WHERE a."user_id" = ANY (users) AND a."source_entity" = 'accounts'
                       AND a."target_table" = 'accounts' AND a."replaced_by" IS NULL) AS a
             WHERE t."id" = a."id"
            RETURNING t.*
        )
        INSERT INTO "pgshred"."migration_replaced" ("batch_id", "user_id", "target_table", "row")
        SELECT batch, gone."user_id", 'accounts', to_jsonb(gone) FROM gone;
        UPDATE "pgshred"."migration_audit_sets" AS a SET "replaced_by" = batch
         WHERE a."user_id" = ANY (users) AND a."source_entity" = 'accounts'
           AND a."target_table" = 'accounts' AND a."replaced_by" IS NULL;
    END IF;
    IF entities IS NULL OR entities ? 'contents' THEN
        WITH gone AS (
            DELETE FROM "public"."contents" AS t
             USING (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                     WHERE a."user_id" = ANY (users) AND a."source_entity" = 'contents'
                       AND a."target_table" = 'contents' AND a."replaced_by" IS NULL) AS a
             WHERE t."id" = a."id"
            RETURNING t.*
        )
        INSERT INTO "pgshred"."migration_replaced" ("batch_id", "user_id", "target_table", "row")
        SELECT batch, gone."user_id", 'contents', to_jsonb(gone) FROM gone;
        UPDATE "pgshred"."migration_audit_sets" AS a SET "replaced_by" = batch
         WHERE a."user_id" = ANY (users) AND a."source_entity" = 'contents'
           AND a."target_table" = 'contents' AND a."replaced_by" IS NULL;
    END IF;
    IF entities IS NULL OR entities ? 'personas' THEN
        WITH gone AS (
            DELETE FROM "public"."personas" AS t
             USING (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                     WHERE a."user_id" = ANY (users) AND a."source_entity" = 'personas'
                       AND a."target_table" = 'personas' AND a."replaced_by" IS NULL) AS a
             WHERE t."id" = a."id"
            RETURNING t.*
        )
        INSERT INTO "pgshred"."migration_replaced" ("batch_id", "user_id", "target_table", "row")
        SELECT batch, gone."user_id", 'personas', to_jsonb(gone) FROM gone;
        UPDATE "pgshred"."migration_audit_sets" AS a SET "replaced_by" = batch
         WHERE a."user_id" = ANY (users) AND a."source_entity" = 'personas'
           AND a."target_table" = 'personas' AND a."replaced_by" IS NULL;
    END IF;
    IF entities IS NULL OR entities ? 'orgs' THEN
        WITH gone AS (
            DELETE FROM "public"."orgs" AS t
             USING (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                     WHERE a."user_id" = ANY (users) AND a."source_entity" = 'orgs'
                       AND a."target_table" = 'orgs' AND a."replaced_by" IS NULL) AS a
             WHERE t."id" = a."id"
            RETURNING t.*
        )
        INSERT INTO "pgshred"."migration_replaced" ("batch_id", "user_id", "target_table", "row")
        SELECT batch, gone."user_id", 'orgs', to_jsonb(gone) FROM gone;
        UPDATE "pgshred"."migration_audit_sets" AS a SET "replaced_by" = batch
         WHERE a."user_id" = ANY (users) AND a."source_entity" = 'orgs'
           AND a."target_table" = 'orgs' AND a."replaced_by" IS NULL;
    END IF;
END
$$;

-- Marks a batch done and its users migrated, except the users it quarantined; a user quarantined
-- earlier and migrated by this batch (a retry) leaves the quarantine. Each user's ledger entry
-- records the checksums of the entities the batch ran and the source row's updated_at;
-- (as user_app_state_begin_forward noted it); the entry it replaces is kept for rollback; a user whose source row
-- is gone (a sync) leaves the ledger.
CREATE OR REPLACE FUNCTION "pgshred".finish_batch(batch bigint, started timestamptz)
RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    ended timestamptz := clock_timestamp();
    done jsonb;
BEGIN
    -- The batch's users are unnested and joined one by one: "user_id = ANY (b.user_ids)" cannot
    -- use the (plan, user_id) key, and read every user of the plan for each batch.
    DELETE FROM "pgshred"."migration_quarantine" AS q
     USING "pgshred"."migration_batches" AS b
      JOIN "pgshred"."migration_runs" AS r ON r."id" = b."run_id"
     CROSS JOIN LATERAL unnest(b."user_ids") AS u("user_id")
     WHERE b."id" = batch AND q."plan" = r."plan" AND q."user_id" = u."user_id"
       AND q."batch_id" <> batch;
    INSERT INTO "pgshred"."migration_replaced_users" ("batch_id", "user_id", "previous")
    SELECT batch, m."user_id", to_jsonb(m)
      FROM "pgshred"."migration_batches" AS b
      JOIN "pgshred"."migration_runs" AS r ON r."id" = b."run_id"
     CROSS JOIN LATERAL unnest(b."user_ids") AS u("user_id")
      JOIN "pgshred"."migration_users" AS m ON m."plan" = r."plan" AND m."user_id" = u."user_id"
     WHERE b."id" = batch AND m."batch_id" <> batch
       AND NOT EXISTS (SELECT 1 FROM "pgshred"."migration_quarantine" AS q
                        WHERE q."plan" = r."plan" AND q."user_id" = m."user_id")
        ON CONFLICT DO NOTHING;
    DELETE FROM "pgshred"."migration_users" AS m
     USING "pgshred"."migration_batches" AS b
      JOIN "pgshred"."migration_runs" AS r ON r."id" = b."run_id"
     CROSS JOIN LATERAL unnest(b."user_ids") AS u("user_id")
     WHERE b."id" = batch AND m."plan" = r."plan" AND m."user_id" = u."user_id"
       AND NOT coalesce(b."source_versions", '{}'::jsonb) ? m."user_id"
       AND NOT EXISTS (SELECT 1 FROM "pgshred"."migration_quarantine" AS q
                        WHERE q."plan" = r."plan" AND q."user_id" = m."user_id");
    INSERT INTO "pgshred"."migration_users" ("plan", "user_id", "run_id", "batch_id", "entities", "source_updated_at")
    SELECT r."plan", s.key, b."run_id", b."id", coalesce(b."entities", '{}'::jsonb), (s.value #>> '{}')::timestamptz
      FROM "pgshred"."migration_batches" AS b
      JOIN "pgshred"."migration_runs" AS r ON r."id" = b."run_id"
     CROSS JOIN LATERAL jsonb_each(coalesce(b."source_versions", '{}'::jsonb)) AS s
     WHERE b."id" = batch
       AND NOT EXISTS (SELECT 1 FROM "pgshred"."migration_quarantine" AS q
                        WHERE q."plan" = r."plan" AND q."user_id" = s.key)
        ON CONFLICT ("plan", "user_id") DO UPDATE
       SET "run_id" = EXCLUDED."run_id", "batch_id" = EXCLUDED."batch_id", "migrated_at" = EXCLUDED."migrated_at",
           "entities" = "pgshred"."migration_users"."entities" || EXCLUDED."entities",
           "source_updated_at" = EXCLUDED."source_updated_at";
    UPDATE "pgshred"."migration_batches"
       SET "status" = 'done', "rows" = "pgshred".batch_rows(batch), "error" = NULL,
           "started_at" = started, "finished_at" = ended,
           "duration_ms" = (extract(epoch FROM ended - started) * 1000)::bigint
     WHERE "id" = batch
    RETURNING "rows" INTO done;
    RETURN done;
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".fail_batch(batch bigint, started timestamptz, problem jsonb)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    ended timestamptz := clock_timestamp();
BEGIN
    UPDATE "pgshred"."migration_batches"
       SET "status" = 'failed', "error" = problem, "started_at" = started, "finished_at" = ended,
           "duration_ms" = (extract(epoch FROM ended - started) * 1000)::bigint
     WHERE "id" = batch;
    UPDATE "pgshred"."migration_runs" AS r
       SET "status" = 'failed', "error" = problem ->> 'message'
      FROM "pgshred"."migration_batches" AS b
     WHERE b."id" = batch AND r."id" = b."run_id";
END
$$;

-- A signal stopped the run with batches left; `apply --resume` continues it.
CREATE OR REPLACE FUNCTION "pgshred".stop_run(run bigint)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    ended timestamptz := clock_timestamp();
BEGIN
    UPDATE "pgshred"."migration_runs" SET "status" = 'stopped', "finished_at" = ended
     WHERE "id" = run AND "status" = 'running';
END
$$;

-- A stopped or failed run taken up again (`apply --resume`, or `--join` leading it).
CREATE OR REPLACE FUNCTION "pgshred".resume_run(run bigint)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
    UPDATE "pgshred"."migration_runs" SET "status" = 'running', "finished_at" = NULL, "error" = NULL
     WHERE "id" = run AND "status" IN ('stopped', 'failed');
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".finish_run(run bigint)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    ended timestamptz := clock_timestamp();
BEGIN
    UPDATE "pgshred"."migration_runs"
       SET "status" = CASE WHEN EXISTS (SELECT 1 FROM "pgshred"."migration_batches" AS b
                                         WHERE b."run_id" = run AND b."status" <> 'done')
                                 OR EXISTS (SELECT 1 FROM "pgshred"."migration_deferred" AS d
                                             WHERE d."run_id" = run AND d."restored_at" IS NULL)
                           THEN "status" ELSE 'completed' END,
           "finished_at" = ended, "error" = NULL
     WHERE "id" = run;
END
$$;
