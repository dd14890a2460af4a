-- pgshred 0.1.0 -- plan refman: target tables and the helper functions the other scripts use.
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
CREATE SCHEMA IF NOT EXISTS "refman";

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
DROP VIEW IF EXISTS "pgshred"."refman_reconstructed";

CREATE OR REPLACE FUNCTION "pgshred".touch_updated_at()
RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW."updated_at" := now();
    RETURN NEW;
END
$$;

-- library
CREATE TABLE IF NOT EXISTS "refman"."libraries" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "version" integer,
    "last_sync" timestamptz,
    "extra" jsonb,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "libraries_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."libraries"', 'version', 'integer');
SELECT "pgshred".ensure_column('"refman"."libraries"', 'last_sync', 'timestamptz');
SELECT "pgshred".ensure_column('"refman"."libraries"', 'extra', 'jsonb');
-- user_id lookups use libraries_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "libraries_touch_updated_at" ON "refman"."libraries";
CREATE TRIGGER "libraries_touch_updated_at" BEFORE UPDATE ON "refman"."libraries"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."libraries" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "libraries_owner" ON "refman"."libraries";
CREATE POLICY "libraries_owner" ON "refman"."libraries" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- info
CREATE TABLE IF NOT EXISTS "refman"."library_info" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "name" text,
    "style" text,
    "locale" text,
    "extra" jsonb,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "library_info_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."library_info"', 'name', 'text');
SELECT "pgshred".ensure_column('"refman"."library_info"', 'style', 'text');
SELECT "pgshred".ensure_column('"refman"."library_info"', 'locale', 'text');
SELECT "pgshred".ensure_column('"refman"."library_info"', 'extra', 'jsonb');
-- user_id lookups use library_info_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "library_info_touch_updated_at" ON "refman"."library_info";
CREATE TRIGGER "library_info_touch_updated_at" BEFORE UPDATE ON "refman"."library_info"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."library_info" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "library_info_owner" ON "refman"."library_info";
CREATE POLICY "library_info_owner" ON "refman"."library_info" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- collections
CREATE TABLE IF NOT EXISTS "refman"."collections" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "parent_id" uuid, -- the collections row `parent` names
    "name" text NOT NULL,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "collections_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "collections_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "refman"."collections" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."collections"', 'parent_id', 'uuid');
SELECT "pgshred".ensure_column('"refman"."collections"', 'name', 'text');
SELECT "pgshred".ensure_column('"refman"."collections"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"refman"."collections"', 'position', 'integer');
-- user_id lookups use collections_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "collections_parent_id_idx" ON "refman"."collections" ("parent_id");
DROP TRIGGER IF EXISTS "collections_touch_updated_at" ON "refman"."collections";
CREATE TRIGGER "collections_touch_updated_at" BEFORE UPDATE ON "refman"."collections"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."collections" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "collections_owner" ON "refman"."collections";
CREATE POLICY "collections_owner" ON "refman"."collections" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- collection_items
CREATE TABLE IF NOT EXISTS "refman"."collection_items" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "collection_id" uuid NOT NULL,
    "item_key" text,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "collection_items_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "collection_items_collection_id_fkey" FOREIGN KEY ("collection_id") REFERENCES "refman"."collections"
        ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."collection_items"', 'collection_id', 'uuid');
SELECT "pgshred".ensure_column('"refman"."collection_items"', 'item_key', 'text');
SELECT "pgshred".ensure_column('"refman"."collection_items"', 'position', 'integer');
-- user_id lookups use collection_items_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "collection_items_collection_id_idx" ON "refman"."collection_items" ("collection_id");
CREATE UNIQUE INDEX IF NOT EXISTS "collection_items_collection_id_item_key_key" ON "refman"."collection_items"
    ("collection_id", "item_key");
DROP TRIGGER IF EXISTS "collection_items_touch_updated_at" ON "refman"."collection_items";
CREATE TRIGGER "collection_items_touch_updated_at" BEFORE UPDATE ON "refman"."collection_items"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."collection_items" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "collection_items_owner" ON "refman"."collection_items";
CREATE POLICY "collection_items_owner" ON "refman"."collection_items" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- items
CREATE TABLE IF NOT EXISTS "refman"."items" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "item_type" text NOT NULL,
    "title" text,
    "date_text" text,
    "published_on" date, -- what date_text names, NULL where it names none
    "published_precision" text, -- day, month or year: how much of a date date_text names
    "added_at" timestamptz,
    "doi" text,
    "url" text,
    "pages" text,
    "volume" text,
    "note_field" text,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "items_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."items"', 'item_type', 'text');
SELECT "pgshred".ensure_column('"refman"."items"', 'title', 'text');
SELECT "pgshred".ensure_column('"refman"."items"', 'date_text', 'text');
SELECT "pgshred".ensure_column('"refman"."items"', 'published_on', 'date');
SELECT "pgshred".ensure_column('"refman"."items"', 'published_precision', 'text');
SELECT "pgshred".ensure_column('"refman"."items"', 'added_at', 'timestamptz');
SELECT "pgshred".ensure_column('"refman"."items"', 'doi', 'text');
SELECT "pgshred".ensure_column('"refman"."items"', 'url', 'text');
SELECT "pgshred".ensure_column('"refman"."items"', 'pages', 'text');
SELECT "pgshred".ensure_column('"refman"."items"', 'volume', 'text');
SELECT "pgshred".ensure_column('"refman"."items"', 'note_field', 'text');
SELECT "pgshred".ensure_column('"refman"."items"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"refman"."items"', 'position', 'integer');
-- user_id lookups use items_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "items_doi_idx" ON "refman"."items" ("doi");
DROP TRIGGER IF EXISTS "items_touch_updated_at" ON "refman"."items";
CREATE TRIGGER "items_touch_updated_at" BEFORE UPDATE ON "refman"."items"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."items" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "items_owner" ON "refman"."items";
CREATE POLICY "items_owner" ON "refman"."items" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- creators
CREATE TABLE IF NOT EXISTS "refman"."creators" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "item_id" uuid NOT NULL,
    "role" text,
    "first_name" text,
    "last_name" text,
    "name" text,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "creators_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "creators_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "refman"."items" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."creators"', 'item_id', 'uuid');
SELECT "pgshred".ensure_column('"refman"."creators"', 'role', 'text');
SELECT "pgshred".ensure_column('"refman"."creators"', 'first_name', 'text');
SELECT "pgshred".ensure_column('"refman"."creators"', 'last_name', 'text');
SELECT "pgshred".ensure_column('"refman"."creators"', 'name', 'text');
SELECT "pgshred".ensure_column('"refman"."creators"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"refman"."creators"', 'position', 'integer');
-- user_id lookups use creators_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "creators_item_id_idx" ON "refman"."creators" ("item_id");
DROP TRIGGER IF EXISTS "creators_touch_updated_at" ON "refman"."creators";
CREATE TRIGGER "creators_touch_updated_at" BEFORE UPDATE ON "refman"."creators"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."creators" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "creators_owner" ON "refman"."creators";
CREATE POLICY "creators_owner" ON "refman"."creators" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- tag_names
CREATE TABLE IF NOT EXISTS "refman"."tags" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "name" text,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "tags_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."tags"', 'name', 'text');
-- user_id lookups use tags_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "tags_touch_updated_at" ON "refman"."tags";
CREATE TRIGGER "tags_touch_updated_at" BEFORE UPDATE ON "refman"."tags"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."tags" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "tags_owner" ON "refman"."tags";
CREATE POLICY "tags_owner" ON "refman"."tags" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- tags
CREATE TABLE IF NOT EXISTS "refman"."item_tags" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "item_id" uuid NOT NULL,
    "tag_id" uuid, -- the tag_names row `tag` names
    "kind" integer,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "item_tags_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "item_tags_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "refman"."items" ("id"),
    CONSTRAINT "item_tags_tag_id_fkey" FOREIGN KEY ("tag_id") REFERENCES "refman"."tags" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."item_tags"', 'item_id', 'uuid');
SELECT "pgshred".ensure_column('"refman"."item_tags"', 'tag_id', 'uuid');
SELECT "pgshred".ensure_column('"refman"."item_tags"', 'kind', 'integer');
SELECT "pgshred".ensure_column('"refman"."item_tags"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"refman"."item_tags"', 'position', 'integer');
-- user_id lookups use item_tags_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "item_tags_item_id_idx" ON "refman"."item_tags" ("item_id");
CREATE INDEX IF NOT EXISTS "item_tags_tag_id_idx" ON "refman"."item_tags" ("tag_id");
DROP TRIGGER IF EXISTS "item_tags_touch_updated_at" ON "refman"."item_tags";
CREATE TRIGGER "item_tags_touch_updated_at" BEFORE UPDATE ON "refman"."item_tags"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."item_tags" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "item_tags_owner" ON "refman"."item_tags";
CREATE POLICY "item_tags_owner" ON "refman"."item_tags" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- notes
CREATE TABLE IF NOT EXISTS "refman"."notes" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "item_id" uuid NOT NULL,
    "html" text,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "notes_user_id_item_id_legacy_id_key" UNIQUE ("user_id", "item_id", "legacy_id"),
    CONSTRAINT "notes_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "refman"."items" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."notes"', 'item_id', 'uuid');
SELECT "pgshred".ensure_column('"refman"."notes"', 'html', 'text');
SELECT "pgshred".ensure_column('"refman"."notes"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"refman"."notes"', 'position', 'integer');
-- Legacy ids unique per parent: a table made when they were unique per user gets the new key (the
-- lock is taken only when there is something to change).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                WHERE conrelid = '"refman"."notes"'::regclass AND conname = 'notes_user_id_legacy_id_key') THEN
        ALTER TABLE "refman"."notes" DROP CONSTRAINT "notes_user_id_legacy_id_key",
            ADD CONSTRAINT "notes_user_id_item_id_legacy_id_key" UNIQUE ("user_id", "item_id", "legacy_id");
        RAISE NOTICE 'pgshred: %: legacy ids are now unique per parent', 'notes';
    END IF;
END
$$;
-- user_id lookups use notes_user_id_item_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "notes_item_id_idx" ON "refman"."notes" ("item_id");
DROP TRIGGER IF EXISTS "notes_touch_updated_at" ON "refman"."notes";
CREATE TRIGGER "notes_touch_updated_at" BEFORE UPDATE ON "refman"."notes"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."notes" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "notes_owner" ON "refman"."notes";
CREATE POLICY "notes_owner" ON "refman"."notes" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- attachments
CREATE TABLE IF NOT EXISTS "refman"."attachments" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "item_id" uuid NOT NULL,
    "filename" text,
    "size_bytes" bigint,
    "md5" text,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "attachments_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "attachments_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "refman"."items" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."attachments"', 'item_id', 'uuid');
SELECT "pgshred".ensure_column('"refman"."attachments"', 'filename', 'text');
SELECT "pgshred".ensure_column('"refman"."attachments"', 'size_bytes', 'bigint');
SELECT "pgshred".ensure_column('"refman"."attachments"', 'md5', 'text');
SELECT "pgshred".ensure_column('"refman"."attachments"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"refman"."attachments"', 'position', 'integer');
-- user_id lookups use attachments_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "attachments_item_id_idx" ON "refman"."attachments" ("item_id");
DROP TRIGGER IF EXISTS "attachments_touch_updated_at" ON "refman"."attachments";
CREATE TRIGGER "attachments_touch_updated_at" BEFORE UPDATE ON "refman"."attachments"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."attachments" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "attachments_owner" ON "refman"."attachments";
CREATE POLICY "attachments_owner" ON "refman"."attachments" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- searches
CREATE TABLE IF NOT EXISTS "refman"."saved_searches" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "name" text,
    "conditions" jsonb,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "saved_searches_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."saved_searches"', 'name', 'text');
SELECT "pgshred".ensure_column('"refman"."saved_searches"', 'conditions', 'jsonb');
SELECT "pgshred".ensure_column('"refman"."saved_searches"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"refman"."saved_searches"', 'position', 'integer');
-- user_id lookups use saved_searches_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "saved_searches_touch_updated_at" ON "refman"."saved_searches";
CREATE TRIGGER "saved_searches_touch_updated_at" BEFORE UPDATE ON "refman"."saved_searches"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."saved_searches" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "saved_searches_owner" ON "refman"."saved_searches";
CREATE POLICY "saved_searches_owner" ON "refman"."saved_searches" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- prefs
CREATE TABLE IF NOT EXISTS "refman"."library_prefs" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "citation_style" text,
    "sync_enabled" boolean,
    "export_format" text,
    "extra" jsonb,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "library_prefs_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"refman"."library_prefs"', 'citation_style', 'text');
SELECT "pgshred".ensure_column('"refman"."library_prefs"', 'sync_enabled', 'boolean');
SELECT "pgshred".ensure_column('"refman"."library_prefs"', 'export_format', 'text');
SELECT "pgshred".ensure_column('"refman"."library_prefs"', 'extra', 'jsonb');
-- user_id lookups use library_prefs_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "library_prefs_touch_updated_at" ON "refman"."library_prefs";
CREATE TRIGGER "library_prefs_touch_updated_at" BEFORE UPDATE ON "refman"."library_prefs"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "refman"."library_prefs" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "library_prefs_owner" ON "refman"."library_prefs";
CREATE POLICY "library_prefs_owner" ON "refman"."library_prefs" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));
