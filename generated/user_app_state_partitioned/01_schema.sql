-- pgshred 0.1.0 -- plan user_app_state_partitioned: target tables and the helper functions the other scripts use.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- Safe to run more than once (IF NOT EXISTS / OR REPLACE). Run it as the role that will own the
-- tables, in one transaction:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 --single-transaction -f 01_schema.sql
--
-- Every table gets: a uuid primary key derived from (namespace, entity, user_id, legacy id); the
-- user_id it belongs to; the legacy id it had in the document, unique per user; the element's
-- position in its array (unless the mapping declares that order does not matter); created_at and
-- updated_at (kept current by a trigger); an index on every foreign-key column; row-level security
-- with a policy comparing user_id to auth.uid()::text, written as a sub-select so
-- it is evaluated once per statement rather than once per row (as Supabase advises).

CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE SCHEMA IF NOT EXISTS "pgshred";
CREATE SCHEMA IF NOT EXISTS "app_partitioned";

-- Every function below runs with a fixed search_path (pg_catalog, pg_temp), so no object another
-- role creates can stand in for what it calls. The three the planner inlines into the forward
-- statements (row_id, array_or_empty, object_or_empty, prune) cannot carry a SET clause (it stops inlining, at
-- twice the time per row); their bodies name every function with its schema instead.

-- The id of a migrated row. The Rust preview computes the same value (uuid::Uuid::new_v5), e.g.
-- the name for entity orgs, user "user-1", legacy id "org_1" is 'orgs:6:user-1:org_1'.
-- Every piece is text, so the body is immutable and the planner inlines the call (`text ||
-- integer` would make it stable, and each use a function call: twice the time per row).
-- uuid_generate_v5 is named with the schema uuid-ossp is installed in (public here, extensions
-- on Supabase), looked up as the function is created.
DO $do$
BEGIN
    EXECUTE format($f$
CREATE OR REPLACE FUNCTION "pgshred".row_id(namespace uuid, entity text, user_id text, legacy_id text)
RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT %I.uuid_generate_v5(namespace,
        entity || ':' || pg_catalog.length(user_id)::text || ':' || user_id || ':' || legacy_id)
$$$f$, (SELECT n.nspname FROM pg_catalog.pg_extension AS e JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
         WHERE e.extname = 'uuid-ossp'));
END
$do$;

-- What a text must look like to be cast directly, one function each, so the scripts name the test
-- instead of repeating its pattern. Plain SQL, immutable and without settings, so the planner
-- inlines each call; the function is named with its schema. Adjacent literals on separate lines
-- are one literal (SQL's rule), which keeps the patterns readable. The patterns are pgshred's
-- (`cast::patterns`): the evaluator of the COPY path and `preview` matches the same ones.
-- A timestamp that is certainly valid (the calendar's days per month, a zone within +-14:59).
CREATE OR REPLACE FUNCTION "pgshred".is_timestamp(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.textregexeq(s,
        '^[ \t\n\r]*[1-9][0-9]{3}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)'
        '|(0[13578]|1[02])-31)([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?([Zz]'
        '|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?)?[ \t\n\r]*$')
$$;

-- Shaped like a timestamp, but not certainly valid (a leap day, an hour 24): cast by a function
-- that names the value when the server refuses it.
CREATE OR REPLACE FUNCTION "pgshred".is_timestamp_shaped(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.textregexeq(s,
        '^[ \t\n\r]*[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]'
        '|[+-][0-9]{2}(:?[0-9]{2})?)?)?[ \t\n\r]*$')
$$;

-- A date that is certainly valid, with blanks around it (`strict`: none).
CREATE OR REPLACE FUNCTION "pgshred".is_date(s text, strict boolean DEFAULT false) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.textregexeq(s, CASE WHEN strict THEN '^' ELSE '^[ \t\n\r]*' END
        OPERATOR(pg_catalog.||)
        '[1-9][0-9]{3}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]'
        '|1[02])-31)'
        OPERATOR(pg_catalog.||) CASE WHEN strict THEN '$' ELSE '[ \t\n\r]*$' END)
$$;

-- A number as text: digits, a point, an exponent, blanks around.
CREATE OR REPLACE FUNCTION "pgshred".is_number(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.textregexeq(s, '^[ \t\n\r]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r]*$')
$$;

-- A uuid as the server reads one: 32 hex digits, with or without the four hyphens and braces.
CREATE OR REPLACE FUNCTION "pgshred".is_uuid(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.textregexeq(s,
        '^([0-9a-fA-F]{32}'
        '|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
        '|\{([0-9a-fA-F]{32}'
        '|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\})$')
$$;

-- Errors raised while migrating name the user, entity, legacy id, path and value, and carry the
-- same facts as JSON in DETAIL for the executor. They are STABLE: they change nothing, and Citus
-- runs an INSERT ... SELECT on the shards only when it calls no volatile function (else it pulls
-- every row to the coordinator). Each call sits in a value the statement uses, since the planner
-- may drop an unused column of a subquery, and the check with it.
CREATE OR REPLACE FUNCTION "pgshred".fail(message text, user_id text, entity text, legacy_id text, path text,
    value jsonb, hint text)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = '22023',
        MESSAGE = format('pgshred: %s (user %s, entity %s, legacy id %s, path %s, value %s)',
                         message, user_id, entity, coalesce(legacy_id, '?'), path, coalesce(left(value::text, 200),
                             'missing')),
        DETAIL = jsonb_build_object('user_id', user_id, 'entity', entity, 'legacy_id', legacy_id,
                                    'path', path, 'value', value, 'problem', message)::text,
        HINT = hint;
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".cast_failed(value jsonb, type text, user_id text, entity text, legacy_id text,
    path text)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('cannot convert value to ' || type, user_id, entity, legacy_id, path, value,
                        'fix the value in the source document, or change the column type in the mapping')
$$;

CREATE OR REPLACE FUNCTION "pgshred".missing_required(user_id text, entity text, legacy_id text, path text)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('required value is missing', user_id, entity, legacy_id, path, NULL,
                        'add the value to the document, give the column a default, or make it optional in the mapping')
$$;

CREATE OR REPLACE FUNCTION "pgshred".missing_id(element jsonb, user_id text, entity text, path text, pos text)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('element at ' || pos || ' has no legacy id', user_id, entity, NULL, path, element,
                        'add the id to the document, or set source.on_missing_id: position in the mapping')
$$;

CREATE OR REPLACE FUNCTION "pgshred".not_an_object(element jsonb, user_id text, entity text, path text, pos text)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('element at ' || pos || ' is not a JSON object', user_id, entity, NULL, path, element,
                        'every element of an entity array must be an object')
$$;

CREATE OR REPLACE FUNCTION "pgshred".not_a_document(user_id text, doc jsonb)
RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('the document is ' || coalesce(jsonb_typeof(doc), 'SQL NULL') || ', not a JSON object',
        user_id, '(document)', NULL, '$', doc,
                        'fix or remove the source row, or set source.not_a_document: '
                        'skip in the plan to migrate such users with no rows')::boolean
$$;

-- An index entry holds at most 2,704 bytes: a longer legacy id would fail the batch with "index
-- row size exceeds maximum" and no user named.
CREATE OR REPLACE FUNCTION "pgshred".id_too_long(user_id text, entity text, legacy_id text)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('legacy id is ' || octet_length(legacy_id) || ' bytes long; at most 1000 fit in an index',
        user_id, entity,
                        left(legacy_id, 40) || '...', 'legacy id', to_jsonb(left(legacy_id, 200)),
                        'shorten the id in the source document; apply --max-bad-users N sets its user aside meanwhile')
$$;

CREATE OR REPLACE FUNCTION "pgshred".duplicate_id(user_id text, entity text, legacy_id text)
RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('legacy id appears more than once', user_id, entity, legacy_id, 'legacy id',
        to_jsonb(legacy_id),
                        'run the dedupe step on the document, or set source.on_duplicate_id: keep_first')::boolean
$$;

CREATE OR REPLACE FUNCTION "pgshred".missing_parent(user_id text, entity text, legacy_id text, parent_entity text,
    path text, parent_legacy_id text)
RETURNS uuid LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('parent ' || parent_entity || ' not found', user_id, entity, legacy_id, path,
        to_jsonb(parent_legacy_id),
                        'fix the reference, or set parent.on_missing to null or skip in the mapping')::uuid
$$;

CREATE OR REPLACE FUNCTION "pgshred".unmapped_keys(residual jsonb, user_id text, entity text, legacy_id text)
RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('keys neither mapped nor dropped', user_id, entity, legacy_id, '(element)', residual,
                        'map or drop these keys, or give the mapping an extra column')::boolean
$$;

-- The array at a path of a document or element: missing or null is an empty array; anything else
-- that is not an array is an error (jsonb_array_elements would fail without saying where).
-- `inside` names the element holding the value (`people b`, `the element at #2`), NULL at the top.
CREATE OR REPLACE FUNCTION "pgshred".array_at(value jsonb, user_id text, entity text, path text, inside text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
        RETURN '[]'::jsonb;
    ELSIF jsonb_typeof(value) = 'array' THEN
        RETURN value;
    END IF;
    PERFORM "pgshred".fail('expected an array' || coalesce(' inside ' || inside, ''), user_id, entity, NULL, path,
        value,
                         'the source path of an entity must hold a JSON array');
END
$$;

-- The object at a path, for an entity keyed by id: missing or null is an empty object; anything
-- else that is not an object is an error.
CREATE OR REPLACE FUNCTION "pgshred".object_at(value jsonb, user_id text, entity text, path text, inside text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
        RETURN '{}'::jsonb;
    ELSIF jsonb_typeof(value) = 'object' THEN
        RETURN value;
    END IF;
    PERFORM "pgshred".fail('expected an object keyed by id' || coalesce(' inside ' || inside, ''), user_id, entity,
        NULL, path,
                         value, 'the source path of a keyed entity must hold a JSON object');
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".object_or_empty(value jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN pg_catalog.jsonb_typeof(value) = 'object' THEN value ELSE '{}'::jsonb END
$$;

-- The same, for counting what a document holds (04_verify.sql): a value that is not an array
-- counts as none instead of stopping the check, so one broken document (a quarantined user) does
-- not hide the others.
CREATE OR REPLACE FUNCTION "pgshred".array_or_empty(value jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN pg_catalog.jsonb_typeof(value) = 'array' THEN value ELSE '[]'::jsonb END
$$;

-- Timestamps and dates that pass the format check can still name a day that does not exist
-- (2024-02-30): the cast is attempted and its failure reported like any other. The forward script
-- casts values that are certainly valid (no Feb 29, hour 24 or year 0) directly and calls these
-- only for the rest, since catching the error costs a subtransaction per value.
CREATE OR REPLACE FUNCTION "pgshred".to_timestamptz(value jsonb, user_id text, entity text, legacy_id text, path text)
RETURNS timestamptz LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (value #>> '{}')::timestamptz;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR invalid_time_zone_displacement_value THEN
    RETURN "pgshred".cast_failed(value, 'timestamptz', user_id, entity, legacy_id, path)::timestamptz;
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".to_date(value jsonb, user_id text, entity text, legacy_id text, path text)
RETURNS date LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (value #>> '{}')::date;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
    RETURN "pgshred".cast_failed(value, 'date', user_id, entity, legacy_id, path)::date;
END
$$;

-- Removes the object at `path` when mapping its keys left it empty, so `extra` holds only what
-- was really left over.
CREATE OR REPLACE FUNCTION "pgshred".prune(value jsonb, path text[])
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value #> path = '{}'::jsonb THEN value #- path ELSE value END
$$;

-- Sets each dotted path (keys never contain dots) to its value, creating objects on the way;
-- NULL values are skipped. Used to keep dangling references and to rebuild documents.
CREATE OR REPLACE FUNCTION "pgshred".assemble(base jsonb, paths text[], vals jsonb[])
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    doc jsonb := coalesce(base, '{}'::jsonb);
    keys text[];
BEGIN
    FOR i IN 1 .. coalesce(array_length(paths, 1), 0) LOOP
        CONTINUE WHEN vals[i] IS NULL;
        keys := string_to_array(paths[i], '.');
        FOR j IN 1 .. array_length(keys, 1) - 1 LOOP
            IF jsonb_typeof(doc #> keys[1:j]) IS DISTINCT FROM 'object' THEN
                doc := jsonb_set(doc, keys[1:j], '{}'::jsonb, true);
            END IF;
        END LOOP;
        doc := jsonb_set(doc, keys, vals[i], true);
    END LOOP;
    RETURN doc;
END
$$;

-- Brings a table made by an earlier version of the mappings to this one: adds a column that is
-- new (nullable, even if the mapping requires it: rows already there have no value until
-- `pgshred apply --remap ENTITY` rewrites them) and converts a column whose type changed with
-- USING column::type, so a value that does not convert stops the script with nothing changed.
CREATE OR REPLACE FUNCTION "pgshred".ensure_column(tab regclass, col text, typ text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    have oid;
BEGIN
    SELECT a.atttypid INTO have FROM pg_attribute AS a
     WHERE a.attrelid = tab AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', tab, col, typ);
        RAISE NOTICE 'pgshred: added column %.% (%)', tab, col, typ;
    ELSIF have <> typ::regtype THEN
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I TYPE %s USING %I::%s', tab, col, typ, col, typ);
        RAISE NOTICE 'pgshred: changed column %.% from % to %', tab, col, have::regtype, typ;
    END IF;
END
$$;

-- The reconstruction view reads the tables below: dropped so their columns can change type, and
-- created again, in its new shape, by 06_reconstruct.sql.
DROP VIEW IF EXISTS "pgshred"."user_app_state_partitioned_reconstructed";

CREATE OR REPLACE FUNCTION "pgshred".touch_updated_at()
RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW."updated_at" := now();
    RETURN NEW;
END
$$;

-- orgs: Organisations a user belongs to (state.orgs[*]).
-- Keyed by (user_id, id), as a table partitioned by user_id must be: a table made
-- keyed by id alone (or not partitioned) stops the script here, as this plan cannot use it.
DO $$
DECLARE
    t regclass := to_regclass('"app_partitioned"."orgs"');
BEGIN
    IF t IS NOT NULL AND (
        (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid = t) <> 'p'
        OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS k
                        WHERE k.conrelid = t AND k.contype = 'p'
                          AND k.conkey[1] = (SELECT a.attnum FROM pg_catalog.pg_attribute AS a
                                              WHERE a.attrelid = t AND a.attname = 'user_id'))) THEN
        RAISE EXCEPTION USING
            MESSAGE = format('pgshred: table %s exists in another layout than '
                             'target.layout (partitioned, keys led by user_id)', t),
            HINT = 'target.layout shapes the tables pgshred creates: migrate into '
                   'a new target schema, or drop the table while it is empty';
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs" (
    "id"         uuid        NOT NULL,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "name" text NOT NULL,
    "plan" text DEFAULT 'free'::text,
    "seats" integer,
    "settings" jsonb,
    "source_created_at" timestamptz,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("user_id", "id"),
    CONSTRAINT "orgs_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
) PARTITION BY HASH ("user_id");
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p0" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p1" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p2" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p3" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p4" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p5" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p6" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p7" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p8" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p9" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p10" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p11" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p12" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p13" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p14" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE IF NOT EXISTS "app_partitioned"."orgs_p15" PARTITION OF "app_partitioned"."orgs"
    FOR VALUES WITH (MODULUS 16, REMAINDER 15);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"app_partitioned"."orgs"', 'name', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."orgs"', 'plan', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."orgs"', 'seats', 'integer');
SELECT "pgshred".ensure_column('"app_partitioned"."orgs"', 'settings', 'jsonb');
SELECT "pgshred".ensure_column('"app_partitioned"."orgs"', 'source_created_at', 'timestamptz');
SELECT "pgshred".ensure_column('"app_partitioned"."orgs"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"app_partitioned"."orgs"', 'position', 'integer');
-- user_id lookups use orgs_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "orgs_touch_updated_at" ON "app_partitioned"."orgs";
CREATE TRIGGER "orgs_touch_updated_at" BEFORE UPDATE ON "app_partitioned"."orgs"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "app_partitioned"."orgs" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "orgs_owner" ON "app_partitioned"."orgs";
CREATE POLICY "orgs_owner" ON "app_partitioned"."orgs" FOR ALL
    USING ("user_id" = (SELECT auth.uid()::text))
    WITH CHECK ("user_id" = (SELECT auth.uid()::text));

-- personas: Writing personas, each belonging to an org (personas[*].orgId).
-- Keyed by (user_id, id), as a table partitioned by user_id must be: a table made
-- keyed by id alone (or not partitioned) stops the script here, as this plan cannot use it.
DO $$
DECLARE
    t regclass := to_regclass('"app_partitioned"."personas"');
BEGIN
    IF t IS NOT NULL AND (
        (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid = t) <> 'p'
        OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS k
                        WHERE k.conrelid = t AND k.contype = 'p'
                          AND k.conkey[1] = (SELECT a.attnum FROM pg_catalog.pg_attribute AS a
                                              WHERE a.attrelid = t AND a.attname = 'user_id'))) THEN
        RAISE EXCEPTION USING
            MESSAGE = format('pgshred: table %s exists in another layout than '
                             'target.layout (partitioned, keys led by user_id)', t),
            HINT = 'target.layout shapes the tables pgshred creates: migrate into '
                   'a new target schema, or drop the table while it is empty';
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas" (
    "id"         uuid        NOT NULL,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "org_id" uuid,
    "name" text NOT NULL,
    "tone" text DEFAULT 'neutral'::text,
    "bio" text,
    "avatar_url" text,
    "is_default" boolean DEFAULT 'false'::boolean,
    "source_created_at" timestamptz,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("user_id", "id"),
    CONSTRAINT "personas_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "personas_org_id_fkey" FOREIGN KEY ("user_id", "org_id") REFERENCES "app_partitioned"."orgs" ("user_id",
        "id")
) PARTITION BY HASH ("user_id");
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p0" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p1" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p2" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p3" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p4" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p5" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p6" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p7" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p8" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p9" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p10" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p11" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p12" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p13" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p14" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE IF NOT EXISTS "app_partitioned"."personas_p15" PARTITION OF "app_partitioned"."personas"
    FOR VALUES WITH (MODULUS 16, REMAINDER 15);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"app_partitioned"."personas"', 'org_id', 'uuid');
SELECT "pgshred".ensure_column('"app_partitioned"."personas"', 'name', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."personas"', 'tone', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."personas"', 'bio', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."personas"', 'avatar_url', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."personas"', 'is_default', 'boolean');
SELECT "pgshred".ensure_column('"app_partitioned"."personas"', 'source_created_at', 'timestamptz');
SELECT "pgshred".ensure_column('"app_partitioned"."personas"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"app_partitioned"."personas"', 'position', 'integer');
-- user_id lookups use personas_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "personas_org_id_idx" ON "app_partitioned"."personas" ("user_id", "org_id");
DROP TRIGGER IF EXISTS "personas_touch_updated_at" ON "app_partitioned"."personas";
CREATE TRIGGER "personas_touch_updated_at" BEFORE UPDATE ON "app_partitioned"."personas"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "app_partitioned"."personas" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "personas_owner" ON "app_partitioned"."personas";
CREATE POLICY "personas_owner" ON "app_partitioned"."personas" FOR ALL
    USING ("user_id" = (SELECT auth.uid()::text))
    WITH CHECK ("user_id" = (SELECT auth.uid()::text));

-- contents: Drafts and published posts written as a persona (contents[*].personaId).
-- Keyed by (user_id, id), as a table partitioned by user_id must be: a table made
-- keyed by id alone (or not partitioned) stops the script here, as this plan cannot use it.
DO $$
DECLARE
    t regclass := to_regclass('"app_partitioned"."contents"');
BEGIN
    IF t IS NOT NULL AND (
        (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid = t) <> 'p'
        OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS k
                        WHERE k.conrelid = t AND k.contype = 'p'
                          AND k.conkey[1] = (SELECT a.attnum FROM pg_catalog.pg_attribute AS a
                                              WHERE a.attrelid = t AND a.attname = 'user_id'))) THEN
        RAISE EXCEPTION USING
            MESSAGE = format('pgshred: table %s exists in another layout than '
                             'target.layout (partitioned, keys led by user_id)', t),
            HINT = 'target.layout shapes the tables pgshred creates: migrate into '
                   'a new target schema, or drop the table while it is empty';
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents" (
    "id"         uuid        NOT NULL,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "persona_id" uuid NOT NULL,
    "title" text,
    "body" text,
    "status" text NOT NULL DEFAULT 'draft'::text,
    "tags" text[],
    "word_count" integer,
    "published_at" timestamptz,
    "source_created_at" timestamptz,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("user_id", "id"),
    CONSTRAINT "contents_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "contents_persona_id_fkey" FOREIGN KEY ("user_id",
        "persona_id") REFERENCES "app_partitioned"."personas" ("user_id", "id")
) PARTITION BY HASH ("user_id");
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p0" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p1" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p2" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p3" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p4" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p5" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p6" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p7" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p8" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p9" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p10" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p11" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p12" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p13" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p14" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE IF NOT EXISTS "app_partitioned"."contents_p15" PARTITION OF "app_partitioned"."contents"
    FOR VALUES WITH (MODULUS 16, REMAINDER 15);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"app_partitioned"."contents"', 'persona_id', 'uuid');
SELECT "pgshred".ensure_column('"app_partitioned"."contents"', 'title', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."contents"', 'body', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."contents"', 'status', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."contents"', 'tags', 'text[]');
SELECT "pgshred".ensure_column('"app_partitioned"."contents"', 'word_count', 'integer');
SELECT "pgshred".ensure_column('"app_partitioned"."contents"', 'published_at', 'timestamptz');
SELECT "pgshred".ensure_column('"app_partitioned"."contents"', 'source_created_at', 'timestamptz');
SELECT "pgshred".ensure_column('"app_partitioned"."contents"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"app_partitioned"."contents"', 'position', 'integer');
-- user_id lookups use contents_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "contents_persona_id_idx" ON "app_partitioned"."contents" ("user_id", "persona_id");
CREATE INDEX IF NOT EXISTS "contents_status_idx" ON "app_partitioned"."contents" ("status");
DROP TRIGGER IF EXISTS "contents_touch_updated_at" ON "app_partitioned"."contents";
CREATE TRIGGER "contents_touch_updated_at" BEFORE UPDATE ON "app_partitioned"."contents"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "app_partitioned"."contents" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "contents_owner" ON "app_partitioned"."contents";
CREATE POLICY "contents_owner" ON "app_partitioned"."contents" FOR ALL
    USING ("user_id" = (SELECT auth.uid()::text))
    WITH CHECK ("user_id" = (SELECT auth.uid()::text));

-- accounts: Social accounts connected to a persona (accounts[*].personaId).
-- Keyed by (user_id, id), as a table partitioned by user_id must be: a table made
-- keyed by id alone (or not partitioned) stops the script here, as this plan cannot use it.
DO $$
DECLARE
    t regclass := to_regclass('"app_partitioned"."accounts"');
BEGIN
    IF t IS NOT NULL AND (
        (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid = t) <> 'p'
        OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS k
                        WHERE k.conrelid = t AND k.contype = 'p'
                          AND k.conkey[1] = (SELECT a.attnum FROM pg_catalog.pg_attribute AS a
                                              WHERE a.attrelid = t AND a.attname = 'user_id'))) THEN
        RAISE EXCEPTION USING
            MESSAGE = format('pgshred: table %s exists in another layout than '
                             'target.layout (partitioned, keys led by user_id)', t),
            HINT = 'target.layout shapes the tables pgshred creates: migrate into '
                   'a new target schema, or drop the table while it is empty';
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts" (
    "id"         uuid        NOT NULL,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "persona_id" uuid NOT NULL,
    "platform" text NOT NULL,
    "handle" text,
    "followers" bigint,
    "connected" boolean DEFAULT 'false'::boolean,
    "connected_at" timestamptz,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("user_id", "id"),
    CONSTRAINT "accounts_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "accounts_persona_id_fkey" FOREIGN KEY ("user_id",
        "persona_id") REFERENCES "app_partitioned"."personas" ("user_id", "id")
) PARTITION BY HASH ("user_id");
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p0" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p1" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p2" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p3" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p4" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p5" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p6" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p7" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p8" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p9" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p10" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p11" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p12" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p13" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p14" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE IF NOT EXISTS "app_partitioned"."accounts_p15" PARTITION OF "app_partitioned"."accounts"
    FOR VALUES WITH (MODULUS 16, REMAINDER 15);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"app_partitioned"."accounts"', 'persona_id', 'uuid');
SELECT "pgshred".ensure_column('"app_partitioned"."accounts"', 'platform', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."accounts"', 'handle', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."accounts"', 'followers', 'bigint');
SELECT "pgshred".ensure_column('"app_partitioned"."accounts"', 'connected', 'boolean');
SELECT "pgshred".ensure_column('"app_partitioned"."accounts"', 'connected_at', 'timestamptz');
SELECT "pgshred".ensure_column('"app_partitioned"."accounts"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"app_partitioned"."accounts"', 'position', 'integer');
-- user_id lookups use accounts_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "accounts_persona_id_idx" ON "app_partitioned"."accounts" ("user_id", "persona_id");
DROP TRIGGER IF EXISTS "accounts_touch_updated_at" ON "app_partitioned"."accounts";
CREATE TRIGGER "accounts_touch_updated_at" BEFORE UPDATE ON "app_partitioned"."accounts"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "app_partitioned"."accounts" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "accounts_owner" ON "app_partitioned"."accounts";
CREATE POLICY "accounts_owner" ON "app_partitioned"."accounts" FOR ALL
    USING ("user_id" = (SELECT auth.uid()::text))
    WITH CHECK ("user_id" = (SELECT auth.uid()::text));

-- leads: People who engaged through an account (leads[*].accountId).
-- Keyed by (user_id, id), as a table partitioned by user_id must be: a table made
-- keyed by id alone (or not partitioned) stops the script here, as this plan cannot use it.
DO $$
DECLARE
    t regclass := to_regclass('"app_partitioned"."leads"');
BEGIN
    IF t IS NOT NULL AND (
        (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid = t) <> 'p'
        OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS k
                        WHERE k.conrelid = t AND k.contype = 'p'
                          AND k.conkey[1] = (SELECT a.attnum FROM pg_catalog.pg_attribute AS a
                                              WHERE a.attrelid = t AND a.attname = 'user_id'))) THEN
        RAISE EXCEPTION USING
            MESSAGE = format('pgshred: table %s exists in another layout than '
                             'target.layout (partitioned, keys led by user_id)', t),
            HINT = 'target.layout shapes the tables pgshred creates: migrate into '
                   'a new target schema, or drop the table while it is empty';
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads" (
    "id"         uuid        NOT NULL,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "account_id" uuid,
    "name" text,
    "email" text,
    "score" numeric,
    "stage" text DEFAULT 'new'::text,
    "source_created_at" timestamptz,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("user_id", "id"),
    CONSTRAINT "leads_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "leads_account_id_fkey" FOREIGN KEY ("user_id",
        "account_id") REFERENCES "app_partitioned"."accounts" ("user_id", "id")
) PARTITION BY HASH ("user_id");
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p0" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p1" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p2" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p3" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p4" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p5" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p6" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p7" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p8" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p9" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p10" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p11" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p12" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p13" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p14" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE IF NOT EXISTS "app_partitioned"."leads_p15" PARTITION OF "app_partitioned"."leads"
    FOR VALUES WITH (MODULUS 16, REMAINDER 15);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"app_partitioned"."leads"', 'account_id', 'uuid');
SELECT "pgshred".ensure_column('"app_partitioned"."leads"', 'name', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."leads"', 'email', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."leads"', 'score', 'numeric');
SELECT "pgshred".ensure_column('"app_partitioned"."leads"', 'stage', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."leads"', 'source_created_at', 'timestamptz');
SELECT "pgshred".ensure_column('"app_partitioned"."leads"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"app_partitioned"."leads"', 'position', 'integer');
-- user_id lookups use leads_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "leads_account_id_idx" ON "app_partitioned"."leads" ("user_id", "account_id");
CREATE INDEX IF NOT EXISTS "leads_email_idx" ON "app_partitioned"."leads" ("email");
DROP TRIGGER IF EXISTS "leads_touch_updated_at" ON "app_partitioned"."leads";
CREATE TRIGGER "leads_touch_updated_at" BEFORE UPDATE ON "app_partitioned"."leads"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "app_partitioned"."leads" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "leads_owner" ON "app_partitioned"."leads";
CREATE POLICY "leads_owner" ON "app_partitioned"."leads" FOR ALL
    USING ("user_id" = (SELECT auth.uid()::text))
    WITH CHECK ("user_id" = (SELECT auth.uid()::text));

-- references: Reference material saved for a persona (references[*].personaId).
-- Keyed by (user_id, id), as a table partitioned by user_id must be: a table made
-- keyed by id alone (or not partitioned) stops the script here, as this plan cannot use it.
DO $$
DECLARE
    t regclass := to_regclass('"app_partitioned"."references"');
BEGIN
    IF t IS NOT NULL AND (
        (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid = t) <> 'p'
        OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS k
                        WHERE k.conrelid = t AND k.contype = 'p'
                          AND k.conkey[1] = (SELECT a.attnum FROM pg_catalog.pg_attribute AS a
                                              WHERE a.attrelid = t AND a.attname = 'user_id'))) THEN
        RAISE EXCEPTION USING
            MESSAGE = format('pgshred: table %s exists in another layout than '
                             'target.layout (partitioned, keys led by user_id)', t),
            HINT = 'target.layout shapes the tables pgshred creates: migrate into '
                   'a new target schema, or drop the table while it is empty';
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS "app_partitioned"."references" (
    "id"         uuid        NOT NULL,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "persona_id" uuid NOT NULL,
    "url" text NOT NULL,
    "title" text,
    "note" text,
    "added_on" date,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("user_id", "id"),
    CONSTRAINT "references_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "references_persona_id_fkey" FOREIGN KEY ("user_id",
        "persona_id") REFERENCES "app_partitioned"."personas" ("user_id", "id")
) PARTITION BY HASH ("user_id");
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p0" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p1" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p2" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p3" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p4" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p5" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p6" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p7" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p8" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p9" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p10" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p11" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p12" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p13" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p14" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE IF NOT EXISTS "app_partitioned"."references_p15" PARTITION OF "app_partitioned"."references"
    FOR VALUES WITH (MODULUS 16, REMAINDER 15);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"app_partitioned"."references"', 'persona_id', 'uuid');
SELECT "pgshred".ensure_column('"app_partitioned"."references"', 'url', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."references"', 'title', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."references"', 'note', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."references"', 'added_on', 'date');
SELECT "pgshred".ensure_column('"app_partitioned"."references"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"app_partitioned"."references"', 'position', 'integer');
-- user_id lookups use references_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "references_persona_id_idx" ON "app_partitioned"."references" ("user_id", "persona_id");
DROP TRIGGER IF EXISTS "references_touch_updated_at" ON "app_partitioned"."references";
CREATE TRIGGER "references_touch_updated_at" BEFORE UPDATE ON "app_partitioned"."references"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "app_partitioned"."references" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "references_owner" ON "app_partitioned"."references";
CREATE POLICY "references_owner" ON "app_partitioned"."references" FOR ALL
    USING ("user_id" = (SELECT auth.uid()::text))
    WITH CHECK ("user_id" = (SELECT auth.uid()::text));

-- inbox_items: Messages received through an account (inboxItems[*].accountId).
-- Keyed by (user_id, id), as a table partitioned by user_id must be: a table made
-- keyed by id alone (or not partitioned) stops the script here, as this plan cannot use it.
DO $$
DECLARE
    t regclass := to_regclass('"app_partitioned"."inbox_items"');
BEGIN
    IF t IS NOT NULL AND (
        (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid = t) <> 'p'
        OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS k
                        WHERE k.conrelid = t AND k.contype = 'p'
                          AND k.conkey[1] = (SELECT a.attnum FROM pg_catalog.pg_attribute AS a
                                              WHERE a.attrelid = t AND a.attname = 'user_id'))) THEN
        RAISE EXCEPTION USING
            MESSAGE = format('pgshred: table %s exists in another layout than '
                             'target.layout (partitioned, keys led by user_id)', t),
            HINT = 'target.layout shapes the tables pgshred creates: migrate into '
                   'a new target schema, or drop the table while it is empty';
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items" (
    "id"         uuid        NOT NULL,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "account_id" uuid,
    "sender" text,
    "subject" text,
    "received_at" timestamptz NOT NULL,
    "is_read" boolean DEFAULT 'false'::boolean,
    "payload" jsonb,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY ("user_id", "id"),
    CONSTRAINT "inbox_items_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "inbox_items_account_id_fkey" FOREIGN KEY ("user_id",
        "account_id") REFERENCES "app_partitioned"."accounts" ("user_id", "id")
) PARTITION BY HASH ("user_id");
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p0" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p1" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p2" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p3" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p4" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p5" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p6" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p7" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p8" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p9" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p10" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p11" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p12" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p13" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p14" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE IF NOT EXISTS "app_partitioned"."inbox_items_p15" PARTITION OF "app_partitioned"."inbox_items"
    FOR VALUES WITH (MODULUS 16, REMAINDER 15);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"app_partitioned"."inbox_items"', 'account_id', 'uuid');
SELECT "pgshred".ensure_column('"app_partitioned"."inbox_items"', 'sender', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."inbox_items"', 'subject', 'text');
SELECT "pgshred".ensure_column('"app_partitioned"."inbox_items"', 'received_at', 'timestamptz');
SELECT "pgshred".ensure_column('"app_partitioned"."inbox_items"', 'is_read', 'boolean');
SELECT "pgshred".ensure_column('"app_partitioned"."inbox_items"', 'payload', 'jsonb');
SELECT "pgshred".ensure_column('"app_partitioned"."inbox_items"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"app_partitioned"."inbox_items"', 'position', 'integer');
-- user_id lookups use inbox_items_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "inbox_items_account_id_idx" ON "app_partitioned"."inbox_items" ("user_id", "account_id");
DROP TRIGGER IF EXISTS "inbox_items_touch_updated_at" ON "app_partitioned"."inbox_items";
CREATE TRIGGER "inbox_items_touch_updated_at" BEFORE UPDATE ON "app_partitioned"."inbox_items"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "app_partitioned"."inbox_items" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "inbox_items_owner" ON "app_partitioned"."inbox_items";
CREATE POLICY "inbox_items_owner" ON "app_partitioned"."inbox_items" FOR ALL
    USING ("user_id" = (SELECT auth.uid()::text))
    WITH CHECK ("user_id" = (SELECT auth.uid()::text));
