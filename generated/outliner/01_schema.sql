-- pgshred 0.1.0 -- plan outliner: target tables and the helper functions the other scripts use.
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
CREATE SCHEMA IF NOT EXISTS "outliner";

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

-- Trees for 06_reconstruct.sql: a user's elements of a recursive entity ({id, up, depth, ord,
-- legacy, elem}) nested, each element's children in order under `key`; returns the elements at
-- depth 1 by id. Built a level at a time, deepest first, each level in one statement that looks its
-- elements' children up in the level below (a binary search of jsonb's keys), so the time grows
-- with the elements, not with their square.
CREATE OR REPLACE FUNCTION "pgshred".tree_nest(nodes jsonb, key text[])
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    -- The children of each element of the level being built, by its id, in order.
    below jsonb := '{}'::jsonb;
    d integer;
BEGIN
    SELECT max((x.value ->> 'depth')::integer) INTO d FROM jsonb_array_elements(nodes) AS x;
    WHILE d > 1 LOOP
        SELECT coalesce(jsonb_object_agg(k.up, k.kids), '{}'::jsonb) INTO below
          FROM (SELECT x.value ->> 'up' AS up,
                       jsonb_agg(CASE WHEN below ? (x.value ->> 'id')
                                      THEN jsonb_set(x.value -> 'elem', key, below -> (x.value ->> 'id'), true)
                                      ELSE x.value -> 'elem' END
                                 ORDER BY (x.value ->> 'ord')::integer NULLS LAST, x.value ->> 'legacy') AS kids
                  FROM jsonb_array_elements(nodes) AS x
                 WHERE (x.value ->> 'depth')::integer = d AND x.value ->> 'up' IS NOT NULL
                 GROUP BY 1) AS k;
        d := d - 1;
    END LOOP;
    RETURN (SELECT coalesce(jsonb_object_agg(x.value ->> 'id',
                                             CASE WHEN below ? (x.value ->> 'id')
                                                  THEN jsonb_set(x.value -> 'elem', key, below -> (x.value ->> 'id'),
                                                      true)
                                                  ELSE x.value -> 'elem' END), '{}'::jsonb)
              FROM jsonb_array_elements(nodes) AS x
             WHERE x.value ->> 'up' IS NULL);
END
$$;

CREATE OR REPLACE FUNCTION "pgshred".too_deep(value jsonb, user_id text, entity text, path text, pos text,
    max_depth integer)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT "pgshred".fail('nested deeper than ' || max_depth || ' levels', user_id, entity, pos, path, value,
                        'raise the entity''s recursive.max_depth if the document is meant to be this deep')
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

-- JSON written inside a string (`format: json`) as jsonb; NULL where the text is not JSON (a
-- syntax error, \u0000, a number out of numeric's range, nesting deeper than the stack allows).
CREATE OR REPLACE FUNCTION "pgshred".try_json_text(value text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN value::jsonb;
EXCEPTION WHEN invalid_text_representation OR untranslatable_character OR numeric_value_out_of_range
    OR statement_too_complex THEN
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
DROP VIEW IF EXISTS "pgshred"."outliner_reconstructed";

CREATE OR REPLACE FUNCTION "pgshred".touch_updated_at()
RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW."updated_at" := now();
    RETURN NEW;
END
$$;

-- account
CREATE TABLE IF NOT EXISTS "outliner"."accounts" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "extra" jsonb,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "accounts_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"outliner"."accounts"', 'extra', 'jsonb');
-- user_id lookups use accounts_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "accounts_touch_updated_at" ON "outliner"."accounts";
CREATE TRIGGER "accounts_touch_updated_at" BEFORE UPDATE ON "outliner"."accounts"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "outliner"."accounts" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "accounts_owner" ON "outliner"."accounts";
CREATE POLICY "accounts_owner" ON "outliner"."accounts" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- graph
CREATE TABLE IF NOT EXISTS "outliner"."graphs" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "name" text,
    "version" integer,
    "config" jsonb,
    "extra" jsonb,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "graphs_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"outliner"."graphs"', 'name', 'text');
SELECT "pgshred".ensure_column('"outliner"."graphs"', 'version', 'integer');
SELECT "pgshred".ensure_column('"outliner"."graphs"', 'config', 'jsonb');
SELECT "pgshred".ensure_column('"outliner"."graphs"', 'extra', 'jsonb');
-- user_id lookups use graphs_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "graphs_touch_updated_at" ON "outliner"."graphs";
CREATE TRIGGER "graphs_touch_updated_at" BEFORE UPDATE ON "outliner"."graphs"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "outliner"."graphs" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "graphs_owner" ON "outliner"."graphs";
CREATE POLICY "graphs_owner" ON "outliner"."graphs" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- pages
CREATE TABLE IF NOT EXISTS "outliner"."pages" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "title" text NOT NULL,
    "written_at" timestamptz,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "pages_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"outliner"."pages"', 'title', 'text');
SELECT "pgshred".ensure_column('"outliner"."pages"', 'written_at', 'timestamptz');
SELECT "pgshred".ensure_column('"outliner"."pages"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"outliner"."pages"', 'position', 'integer');
-- user_id lookups use pages_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
DROP TRIGGER IF EXISTS "pages_touch_updated_at" ON "outliner"."pages";
CREATE TRIGGER "pages_touch_updated_at" BEFORE UPDATE ON "outliner"."pages"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "outliner"."pages" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "pages_owner" ON "outliner"."pages";
CREATE POLICY "pages_owner" ON "outliner"."pages" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- page_tags
CREATE TABLE IF NOT EXISTS "outliner"."page_tags" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "page_id" uuid NOT NULL,
    "tag" text,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "page_tags_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "page_tags_page_id_fkey" FOREIGN KEY ("page_id") REFERENCES "outliner"."pages" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"outliner"."page_tags"', 'page_id', 'uuid');
SELECT "pgshred".ensure_column('"outliner"."page_tags"', 'tag', 'text');
SELECT "pgshred".ensure_column('"outliner"."page_tags"', 'position', 'integer');
-- user_id lookups use page_tags_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "page_tags_page_id_idx" ON "outliner"."page_tags" ("page_id");
DROP TRIGGER IF EXISTS "page_tags_touch_updated_at" ON "outliner"."page_tags";
CREATE TRIGGER "page_tags_touch_updated_at" BEFORE UPDATE ON "outliner"."page_tags"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "outliner"."page_tags" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "page_tags_owner" ON "outliner"."page_tags";
CREATE POLICY "page_tags_owner" ON "outliner"."page_tags" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- blocks
CREATE TABLE IF NOT EXISTS "outliner"."blocks" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "page_id" uuid NOT NULL,
    "embed_block_id" uuid, -- the blocks row `embed` names
    "embed_page_id" uuid, -- the pages row `embed` names
    "parent_block_id" uuid, -- its parent in the tree (NULL at depth 1)
    "depth" integer NOT NULL,
    "text" text,
    "heading" integer,
    "open" boolean DEFAULT 'true'::boolean,
    "written_at" timestamptz,
    "extra" jsonb,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "blocks_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "blocks_page_id_fkey" FOREIGN KEY ("page_id") REFERENCES "outliner"."pages" ("id"),
    CONSTRAINT "blocks_embed_block_id_fkey" FOREIGN KEY ("embed_block_id") REFERENCES "outliner"."blocks" ("id"),
    CONSTRAINT "blocks_embed_page_id_fkey" FOREIGN KEY ("embed_page_id") REFERENCES "outliner"."pages" ("id"),
    CONSTRAINT "blocks_parent_block_id_fkey" FOREIGN KEY ("parent_block_id") REFERENCES "outliner"."blocks" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"outliner"."blocks"', 'page_id', 'uuid');
SELECT "pgshred".ensure_column('"outliner"."blocks"', 'embed_block_id', 'uuid');
SELECT "pgshred".ensure_column('"outliner"."blocks"', 'embed_page_id', 'uuid');
SELECT "pgshred".ensure_column('"outliner"."blocks"', 'parent_block_id', 'uuid');
SELECT "pgshred".ensure_column('"outliner"."blocks"', 'depth', 'integer');
SELECT "pgshred".ensure_column('"outliner"."blocks"', 'text', 'text');
SELECT "pgshred".ensure_column('"outliner"."blocks"', 'heading', 'integer');
SELECT "pgshred".ensure_column('"outliner"."blocks"', 'open', 'boolean');
SELECT "pgshred".ensure_column('"outliner"."blocks"', 'written_at', 'timestamptz');
SELECT "pgshred".ensure_column('"outliner"."blocks"', 'extra', 'jsonb');
SELECT "pgshred".ensure_column('"outliner"."blocks"', 'position', 'integer');
-- user_id lookups use blocks_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "blocks_page_id_idx" ON "outliner"."blocks" ("page_id");
CREATE INDEX IF NOT EXISTS "blocks_embed_block_id_idx" ON "outliner"."blocks" ("embed_block_id");
CREATE INDEX IF NOT EXISTS "blocks_embed_page_id_idx" ON "outliner"."blocks" ("embed_page_id");
CREATE INDEX IF NOT EXISTS "blocks_parent_block_id_idx" ON "outliner"."blocks" ("parent_block_id");
DROP TRIGGER IF EXISTS "blocks_touch_updated_at" ON "outliner"."blocks";
CREATE TRIGGER "blocks_touch_updated_at" BEFORE UPDATE ON "outliner"."blocks"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "outliner"."blocks" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "blocks_owner" ON "outliner"."blocks";
CREATE POLICY "blocks_owner" ON "outliner"."blocks" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- block_props
CREATE TABLE IF NOT EXISTS "outliner"."block_props" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "block_id" uuid NOT NULL,
    "status" text,
    "extra" jsonb,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "block_props_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "block_props_block_id_fkey" FOREIGN KEY ("block_id") REFERENCES "outliner"."blocks" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"outliner"."block_props"', 'block_id', 'uuid');
SELECT "pgshred".ensure_column('"outliner"."block_props"', 'status', 'text');
SELECT "pgshred".ensure_column('"outliner"."block_props"', 'extra', 'jsonb');
-- user_id lookups use block_props_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "block_props_block_id_idx" ON "outliner"."block_props" ("block_id");
DROP TRIGGER IF EXISTS "block_props_touch_updated_at" ON "outliner"."block_props";
CREATE TRIGGER "block_props_touch_updated_at" BEFORE UPDATE ON "outliner"."block_props"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "outliner"."block_props" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "block_props_owner" ON "outliner"."block_props";
CREATE POLICY "block_props_owner" ON "outliner"."block_props" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- block_refs
CREATE TABLE IF NOT EXISTS "outliner"."block_refs" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "block_id" uuid NOT NULL,
    "ref_block_id" uuid, -- the blocks row `` names
    "ref_uid" text,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "block_refs_user_id_block_id_legacy_id_key" UNIQUE ("user_id", "block_id", "legacy_id"),
    CONSTRAINT "block_refs_block_id_fkey" FOREIGN KEY ("block_id") REFERENCES "outliner"."blocks" ("id"),
    CONSTRAINT "block_refs_ref_block_id_fkey" FOREIGN KEY ("ref_block_id") REFERENCES "outliner"."blocks" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"outliner"."block_refs"', 'block_id', 'uuid');
SELECT "pgshred".ensure_column('"outliner"."block_refs"', 'ref_block_id', 'uuid');
SELECT "pgshred".ensure_column('"outliner"."block_refs"', 'ref_uid', 'text');
SELECT "pgshred".ensure_column('"outliner"."block_refs"', 'position', 'integer');
-- Legacy ids unique per parent: a table made when they were unique per user gets the new key (the
-- lock is taken only when there is something to change).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                WHERE conrelid = '"outliner"."block_refs"'::regclass
                    AND conname = 'block_refs_user_id_legacy_id_key') THEN
        ALTER TABLE "outliner"."block_refs" DROP CONSTRAINT "block_refs_user_id_legacy_id_key",
            ADD CONSTRAINT "block_refs_user_id_block_id_legacy_id_key" UNIQUE ("user_id", "block_id", "legacy_id");
        RAISE NOTICE 'pgshred: %: legacy ids are now unique per parent', 'block_refs';
    END IF;
END
$$;
-- user_id lookups use block_refs_user_id_block_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "block_refs_block_id_idx" ON "outliner"."block_refs" ("block_id");
CREATE INDEX IF NOT EXISTS "block_refs_ref_block_id_idx" ON "outliner"."block_refs" ("ref_block_id");
DROP TRIGGER IF EXISTS "block_refs_touch_updated_at" ON "outliner"."block_refs";
CREATE TRIGGER "block_refs_touch_updated_at" BEFORE UPDATE ON "outliner"."block_refs"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "outliner"."block_refs" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "block_refs_owner" ON "outliner"."block_refs";
CREATE POLICY "block_refs_owner" ON "outliner"."block_refs" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));

-- daily_notes
CREATE TABLE IF NOT EXISTS "outliner"."daily_notes" (
    "id"         uuid        PRIMARY KEY,
    "user_id"    text        NOT NULL,
    "legacy_id"  text        NOT NULL,
    "page_id" uuid, -- the pages row `` names
    "page_uid" text,
    "position" integer,
    "created_at" timestamptz NOT NULL DEFAULT now(),
    "updated_at" timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT "daily_notes_user_id_legacy_id_key" UNIQUE ("user_id", "legacy_id"),
    CONSTRAINT "daily_notes_page_id_fkey" FOREIGN KEY ("page_id") REFERENCES "outliner"."pages" ("id")
);
-- Columns added or retyped since the table was created (no-ops on a new table).
SELECT "pgshred".ensure_column('"outliner"."daily_notes"', 'page_id', 'uuid');
SELECT "pgshred".ensure_column('"outliner"."daily_notes"', 'page_uid', 'text');
SELECT "pgshred".ensure_column('"outliner"."daily_notes"', 'position', 'integer');
-- user_id lookups use daily_notes_user_id_legacy_id_key: user_id is its leading column, so a separate index
-- would only slow writes down.
CREATE INDEX IF NOT EXISTS "daily_notes_page_id_idx" ON "outliner"."daily_notes" ("page_id");
DROP TRIGGER IF EXISTS "daily_notes_touch_updated_at" ON "outliner"."daily_notes";
CREATE TRIGGER "daily_notes_touch_updated_at" BEFORE UPDATE ON "outliner"."daily_notes"
    FOR EACH ROW EXECUTE FUNCTION "pgshred".touch_updated_at();
ALTER TABLE "outliner"."daily_notes" ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS "daily_notes_owner" ON "outliner"."daily_notes";
CREATE POLICY "daily_notes_owner" ON "outliner"."daily_notes" FOR ALL
    USING ("user_id" = (SELECT current_setting('app.user_id', true)))
    WITH CHECK ("user_id" = (SELECT current_setting('app.user_id', true)));
