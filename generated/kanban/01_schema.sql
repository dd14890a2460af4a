-- pgshred 0.1.0 -- plan kanban: target tables and the helper functions the other scripts use.
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
-- with a policy comparing user_id to current_setting('app.user_id', true), written as a sub-select so
-- it is evaluated once per statement rather than once per row (as Supabase advises).

CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE SCHEMA IF NOT EXISTS "pgshred";
CREATE SCHEMA IF NOT EXISTS "kanban";

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

CREATE OR REPLACE FUNCTION "pgshred".unrouted(value jsonb, user_id text, entity text, path text, field text, pos text)
RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('element of a kind no entity takes', user_id, entity, pos, path || '[*].' || field, value,
                        'add its kind to an entity''s where.in, take the other kinds '
                        'with where.others: take, or drop them with where.others: drop')::boolean
$$;

CREATE OR REPLACE FUNCTION "pgshred".missing_reference(user_id text, entity text, legacy_id text, target_entity text,
    path text, value jsonb)
RETURNS uuid LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('referenced ' || target_entity || ' not found', user_id, entity, legacy_id, path, value,
                        'set the reference''s on_missing to "null" (the '
                        'value is kept in extra) or skip, or fix the data')::uuid
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

-- The same casts for a free-text date's parsed companion: text that names no day gives NULL.
CREATE OR REPLACE FUNCTION "pgshred".try_timestamptz(value text)
RETURNS timestamptz LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN value::timestamptz;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR invalid_time_zone_displacement_value THEN
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".try_date(value text)
RETURNS date LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN value::date;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
    RETURN NULL;
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

-- The same for plans whose keys hold dots: such a path comes as a JSON array of its keys
-- ('["files.list"]'). A function of its own, so plans sharing this schema never replace each
-- other's.
CREATE OR REPLACE FUNCTION "pgshred".assemble_keys(base jsonb, paths text[], vals jsonb[])
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    doc jsonb := coalesce(base, '{}'::jsonb);
    keys text[];
BEGIN
    FOR i IN 1 .. coalesce(array_length(paths, 1), 0) LOOP
        CONTINUE WHEN vals[i] IS NULL;
        keys := CASE WHEN left(paths[i], 1) = '['
                     THEN ARRAY(SELECT jsonb_array_elements_text(paths[i]::jsonb))
                     ELSE string_to_array(paths[i], '.') END;
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
DROP VIEW IF EXISTS "pgshred"."kanban_reconstructed";

CREATE OR REPLACE FUNCTION "pgshred".touch_updated_at()
RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW."updated_at" := now();
    RETURN NEW;
END
$$;

-- board: The board itself, one per user.
CREATE TABLE IF NOT EXISTS "kanban"."boards" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "title" text,
    "version" integer,
    "made_at" timestamptz,
    "extra" jsonb,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "boards_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."boards"', 'title', 'text');
SELECT "pgshred".ensure_column('"kanban"."boards"', 'version', 'integer');
SELECT "pgshred".ensure_column('"kanban"."boards"', 'made_at', 'timestamptz');
SELECT "pgshred".ensure_column('"kanban"."boards"', 'extra', 'jsonb');
-- user_id lookups use boards_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "boards_touch_updated_at" ON "kanban"."boards";
CREATE TRIGGER "boards_touch_updated_at" BEFORE UPDATE ON "kanban"."boards"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."boards" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "boards_owner" ON "kanban"."boards";
CREATE POLICY "boards_owner" ON "kanban"."boards" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- prefs
CREATE TABLE IF NOT EXISTS "kanban"."board_prefs" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "background" text,
    "card_covers" boolean,
    "permission_level" text,
    "extra" jsonb,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "board_prefs_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."board_prefs"', 'background', 'text');
SELECT "pgshred".ensure_column('"kanban"."board_prefs"', 'card_covers', 'boolean');
SELECT "pgshred".ensure_column('"kanban"."board_prefs"', 'permission_level', 'text');
SELECT "pgshred".ensure_column('"kanban"."board_prefs"', 'extra', 'jsonb');
-- user_id lookups use board_prefs_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "board_prefs_touch_updated_at" ON "kanban"."board_prefs";
CREATE TRIGGER "board_prefs_touch_updated_at" BEFORE UPDATE ON "kanban"."board_prefs"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."board_prefs" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "board_prefs_owner" ON "kanban"."board_prefs";
CREATE POLICY "board_prefs_owner" ON "kanban"."board_prefs" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- lists
CREATE TABLE IF NOT EXISTS "kanban"."lists" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "name" text NOT NULL,
    "closed" boolean DEFAULT 'false'::boolean,
    "wip_limit" integer,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "lists_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."lists"', 'name', 'text');
SELECT "pgshred".ensure_column('"kanban"."lists"', 'closed', 'boolean');
SELECT "pgshred".ensure_column('"kanban"."lists"', 'wip_limit', 'integer');
SELECT "pgshred".ensure_column('"kanban"."lists"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"kanban"."lists"', 'position', 'integer');
-- user_id lookups use lists_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "lists_touch_updated_at" ON "kanban"."lists";
CREATE TRIGGER "lists_touch_updated_at" BEFORE UPDATE ON "kanban"."lists"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."lists" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "lists_owner" ON "kanban"."lists";
CREATE POLICY "lists_owner" ON "kanban"."lists" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- labels
CREATE TABLE IF NOT EXISTS "kanban"."labels" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "list_id" uuid NOT NULL,
    "name" text,
    "color" text,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "labels_user_id_list_id_legacy_id_key" UNIQUE ("user_id", "list_id", "legacy_id"),
    CONSTRAINT "labels_list_id_fkey" FOREIGN KEY ("list_id") REFERENCES "kanban"."lists" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."labels"', 'list_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."labels"', 'name', 'text');
SELECT "pgshred".ensure_column('"kanban"."labels"', 'color', 'text');
SELECT "pgshred".ensure_column('"kanban"."labels"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"kanban"."labels"', 'position', 'integer');
-- Legacy ids unique per parent: a table made when they were unique per user gets the new key (the
-- lock is taken only when there is something to change).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                WHERE conrelid = '"kanban"."labels"'::regclass AND conname = 'labels_user_id_legacy_id_key') THEN
        ALTER TABLE "kanban"."labels" DROP CONSTRAINT "labels_user_id_legacy_id_key",
            ADD CONSTRAINT "labels_user_id_list_id_legacy_id_key" UNIQUE ("user_id", "list_id", "legacy_id");
        RAISE NOTICE 'pgshred: %: legacy ids are now unique per parent', 'labels';
    END IF;
END
$$;
-- user_id lookups use labels_user_id_list_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "labels_list_id_idx" ON "kanban"."labels" ("list_id");
DROP TRIGGER IF EXISTS "labels_touch_updated_at" ON "kanban"."labels";
CREATE TRIGGER "labels_touch_updated_at" BEFORE UPDATE ON "kanban"."labels"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."labels" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "labels_owner" ON "kanban"."labels";
CREATE POLICY "labels_owner" ON "kanban"."labels" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- cards
CREATE TABLE IF NOT EXISTS "kanban"."cards" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "list_id" uuid,
    "title" text NOT NULL,
    "body" text,
    "due" timestamptz,
    "start_text" text,
    "start_on" date, -- what start_text names, NULL where it names none
    "opened_at" timestamptz,
    "label_ids" text[],
    "votes" integer,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "cards_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "cards_list_id_fkey" FOREIGN KEY ("list_id") REFERENCES "kanban"."lists" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."cards"', 'list_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."cards"', 'title', 'text');
SELECT "pgshred".ensure_column('"kanban"."cards"', 'body', 'text');
SELECT "pgshred".ensure_column('"kanban"."cards"', 'due', 'timestamptz');
SELECT "pgshred".ensure_column('"kanban"."cards"', 'start_text', 'text');
SELECT "pgshred".ensure_column('"kanban"."cards"', 'start_on', 'date');
SELECT "pgshred".ensure_column('"kanban"."cards"', 'opened_at', 'timestamptz');
SELECT "pgshred".ensure_column('"kanban"."cards"', 'label_ids', 'text[]');
SELECT "pgshred".ensure_column('"kanban"."cards"', 'votes', 'integer');
SELECT "pgshred".ensure_column('"kanban"."cards"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"kanban"."cards"', 'position', 'integer');
-- user_id lookups use cards_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "cards_list_id_idx" ON "kanban"."cards" ("list_id");
CREATE INDEX IF NOT EXISTS "cards_due_idx" ON "kanban"."cards" ("due");
DROP TRIGGER IF EXISTS "cards_touch_updated_at" ON "kanban"."cards";
CREATE TRIGGER "cards_touch_updated_at" BEFORE UPDATE ON "kanban"."cards"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."cards" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "cards_owner" ON "kanban"."cards";
CREATE POLICY "cards_owner" ON "kanban"."cards" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- checklist
CREATE TABLE IF NOT EXISTS "kanban"."checklist_items" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "card_id" uuid NOT NULL,
    "text" text,
    "done" boolean DEFAULT 'false'::boolean,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "checklist_items_user_id_card_id_legacy_id_key" UNIQUE ("user_id", "card_id", "legacy_id"),
    CONSTRAINT "checklist_items_card_id_fkey" FOREIGN KEY ("card_id") REFERENCES "kanban"."cards" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."checklist_items"', 'card_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."checklist_items"', 'text', 'text');
SELECT "pgshred".ensure_column('"kanban"."checklist_items"', 'done', 'boolean');
SELECT "pgshred".ensure_column('"kanban"."checklist_items"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"kanban"."checklist_items"', 'position', 'integer');
-- Legacy ids unique per parent: a table made when they were unique per user gets the new key (the
-- lock is taken only when there is something to change).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                WHERE conrelid = '"kanban"."checklist_items"'::regclass
                    AND conname = 'checklist_items_user_id_legacy_id_key') THEN
        ALTER TABLE "kanban"."checklist_items" DROP CONSTRAINT "checklist_items_user_id_legacy_id_key",
            ADD CONSTRAINT "checklist_items_user_id_card_id_legacy_id_key" UNIQUE ("user_id", "card_id", "legacy_id");
        RAISE NOTICE 'pgshred: %: legacy ids are now unique per parent', 'checklist_items';
    END IF;
END
$$;
-- user_id lookups use checklist_items_user_id_card_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "checklist_items_card_id_idx" ON "kanban"."checklist_items" ("card_id");
DROP TRIGGER IF EXISTS "checklist_items_touch_updated_at" ON "kanban"."checklist_items";
CREATE TRIGGER "checklist_items_touch_updated_at" BEFORE UPDATE ON "kanban"."checklist_items"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."checklist_items" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "checklist_items_owner" ON "kanban"."checklist_items";
CREATE POLICY "checklist_items_owner" ON "kanban"."checklist_items" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- members
CREATE TABLE IF NOT EXISTS "kanban"."members" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "full_name" text,
    "initials" text,
    "avatar" text,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "members_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."members"', 'full_name', 'text');
SELECT "pgshred".ensure_column('"kanban"."members"', 'initials', 'text');
SELECT "pgshred".ensure_column('"kanban"."members"', 'avatar', 'text');
SELECT "pgshred".ensure_column('"kanban"."members"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"kanban"."members"', 'position', 'integer');
-- user_id lookups use members_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "members_touch_updated_at" ON "kanban"."members";
CREATE TRIGGER "members_touch_updated_at" BEFORE UPDATE ON "kanban"."members"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."members" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "members_owner" ON "kanban"."members";
CREATE POLICY "members_owner" ON "kanban"."members" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- card_members
CREATE TABLE IF NOT EXISTS "kanban"."card_members" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "card_id" uuid NOT NULL,
    "member_id" uuid, -- the members row `` names
    "member_key" text,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "card_members_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "card_members_card_id_fkey" FOREIGN KEY ("card_id") REFERENCES "kanban"."cards" ("id"),
    CONSTRAINT "card_members_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "kanban"."members" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."card_members"', 'card_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."card_members"', 'member_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."card_members"', 'member_key', 'text');
SELECT "pgshred".ensure_column('"kanban"."card_members"', 'position', 'integer');
-- user_id lookups use card_members_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "card_members_card_id_idx" ON "kanban"."card_members" ("card_id");
CREATE INDEX IF NOT EXISTS "card_members_member_id_idx" ON "kanban"."card_members" ("member_id");
DROP TRIGGER IF EXISTS "card_members_touch_updated_at" ON "kanban"."card_members";
CREATE TRIGGER "card_members_touch_updated_at" BEFORE UPDATE ON "kanban"."card_members"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."card_members" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "card_members_owner" ON "kanban"."card_members";
CREATE POLICY "card_members_owner" ON "kanban"."card_members" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- activity
CREATE TABLE IF NOT EXISTS "kanban"."activity" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "card_id" uuid, -- the cards row `cardId` names
    "member_id" uuid, -- the members row `memberId` names
    "type" text NOT NULL,
    "at" timestamptz,
    "data" jsonb,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "activity_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "activity_card_id_fkey" FOREIGN KEY ("card_id") REFERENCES "kanban"."cards" ("id"),
    CONSTRAINT "activity_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "kanban"."members" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."activity"', 'card_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."activity"', 'member_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."activity"', 'type', 'text');
SELECT "pgshred".ensure_column('"kanban"."activity"', 'at', 'timestamptz');
SELECT "pgshred".ensure_column('"kanban"."activity"', 'data', 'jsonb');
SELECT "pgshred".ensure_column('"kanban"."activity"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"kanban"."activity"', 'position', 'integer');
-- user_id lookups use activity_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "activity_card_id_idx" ON "kanban"."activity" ("card_id");
CREATE INDEX IF NOT EXISTS "activity_member_id_idx" ON "kanban"."activity" ("member_id");
DROP TRIGGER IF EXISTS "activity_touch_updated_at" ON "kanban"."activity";
CREATE TRIGGER "activity_touch_updated_at" BEFORE UPDATE ON "kanban"."activity"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."activity" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "activity_owner" ON "kanban"."activity";
CREATE POLICY "activity_owner" ON "kanban"."activity" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- comments
CREATE TABLE IF NOT EXISTS "kanban"."card_comments" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "card_id" uuid, -- the cards row `cardId` names
    "author_id" uuid, -- the members row `memberId` names
    "type" text,
    "at" timestamptz,
    "body" text,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "card_comments_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "card_comments_card_id_fkey" FOREIGN KEY ("card_id") REFERENCES "kanban"."cards" ("id"),
    CONSTRAINT "card_comments_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "kanban"."members" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."card_comments"', 'card_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."card_comments"', 'author_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."card_comments"', 'type', 'text');
SELECT "pgshred".ensure_column('"kanban"."card_comments"', 'at', 'timestamptz');
SELECT "pgshred".ensure_column('"kanban"."card_comments"', 'body', 'text');
SELECT "pgshred".ensure_column('"kanban"."card_comments"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"kanban"."card_comments"', 'position', 'integer');
-- user_id lookups use card_comments_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "card_comments_card_id_idx" ON "kanban"."card_comments" ("card_id");
CREATE INDEX IF NOT EXISTS "card_comments_author_id_idx" ON "kanban"."card_comments" ("author_id");
DROP TRIGGER IF EXISTS "card_comments_touch_updated_at" ON "kanban"."card_comments";
CREATE TRIGGER "card_comments_touch_updated_at" BEFORE UPDATE ON "kanban"."card_comments"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."card_comments" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "card_comments_owner" ON "kanban"."card_comments";
CREATE POLICY "card_comments_owner" ON "kanban"."card_comments" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- card_moves
CREATE TABLE IF NOT EXISTS "kanban"."card_moves" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "card_id" uuid, -- the cards row `cardId` names
    "member_id" uuid, -- the members row `memberId` names
    "type" text,
    "at" timestamptz,
    "from_list" text,
    "to_list" text,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "card_moves_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "card_moves_card_id_fkey" FOREIGN KEY ("card_id") REFERENCES "kanban"."cards" ("id"),
    CONSTRAINT "card_moves_member_id_fkey" FOREIGN KEY ("member_id") REFERENCES "kanban"."members" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."card_moves"', 'card_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."card_moves"', 'member_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."card_moves"', 'type', 'text');
SELECT "pgshred".ensure_column('"kanban"."card_moves"', 'at', 'timestamptz');
SELECT "pgshred".ensure_column('"kanban"."card_moves"', 'from_list', 'text');
SELECT "pgshred".ensure_column('"kanban"."card_moves"', 'to_list', 'text');
SELECT "pgshred".ensure_column('"kanban"."card_moves"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"kanban"."card_moves"', 'position', 'integer');
-- user_id lookups use card_moves_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "card_moves_card_id_idx" ON "kanban"."card_moves" ("card_id");
CREATE INDEX IF NOT EXISTS "card_moves_member_id_idx" ON "kanban"."card_moves" ("member_id");
DROP TRIGGER IF EXISTS "card_moves_touch_updated_at" ON "kanban"."card_moves";
CREATE TRIGGER "card_moves_touch_updated_at" BEFORE UPDATE ON "kanban"."card_moves"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."card_moves" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "card_moves_owner" ON "kanban"."card_moves";
CREATE POLICY "card_moves_owner" ON "kanban"."card_moves" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- settings
CREATE TABLE IF NOT EXISTS "kanban"."board_settings" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "theme" text,
    "density" text,
    "locale" text,
    "extra" jsonb,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "board_settings_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."board_settings"', 'theme', 'text');
SELECT "pgshred".ensure_column('"kanban"."board_settings"', 'density', 'text');
SELECT "pgshred".ensure_column('"kanban"."board_settings"', 'locale', 'text');
SELECT "pgshred".ensure_column('"kanban"."board_settings"', 'extra', 'jsonb');
-- user_id lookups use board_settings_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "board_settings_touch_updated_at" ON "kanban"."board_settings";
CREATE TRIGGER "board_settings_touch_updated_at" BEFORE UPDATE ON "kanban"."board_settings"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."board_settings" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "board_settings_owner" ON "kanban"."board_settings";
CREATE POLICY "board_settings_owner" ON "kanban"."board_settings" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- shortcuts
CREATE TABLE IF NOT EXISTS "kanban"."shortcuts" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "settings_id" uuid NOT NULL,
    "keys" text,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "shortcuts_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "shortcuts_settings_id_fkey" FOREIGN KEY ("settings_id") REFERENCES "kanban"."board_settings" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"kanban"."shortcuts"', 'settings_id', 'uuid');
SELECT "pgshred".ensure_column('"kanban"."shortcuts"', 'keys', 'text');
SELECT "pgshred".ensure_column('"kanban"."shortcuts"', 'position', 'integer');
-- user_id lookups use shortcuts_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "shortcuts_settings_id_idx" ON "kanban"."shortcuts" ("settings_id");
DROP TRIGGER IF EXISTS "shortcuts_touch_updated_at" ON "kanban"."shortcuts";
CREATE TRIGGER "shortcuts_touch_updated_at" BEFORE UPDATE ON "kanban"."shortcuts"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "kanban"."shortcuts" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "shortcuts_owner" ON "kanban"."shortcuts";
CREATE POLICY "shortcuts_owner" ON "kanban"."shortcuts" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));
