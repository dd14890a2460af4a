-- pgshred 0.1.0 -- plan refman: forward migration of ONE batch of users.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- Set-based: each entity is one INSERT ... SELECT over every user of the batch, parents before
-- children (library, info, collections, collection_items, items, creators, tag_names, tags, notes, attachments,
-- searches, prefs).
-- Each new row's id is uuid_generate_v5(namespace, '<entity>:<len(user_id)>:<user_id>:<legacy id>'),
-- so a parent link needs no lookup and running a batch twice inserts nothing the second time
-- (ON CONFLICT ("id") DO NOTHING; a clash on any other unique index is an error, never skipped). Every inserted row is
-- recorded in pgshred.migration_audit_sets
-- (per user and entity: legacy ids -> new ids), which is what rollback deletes by.
--
-- A value that does not convert to its column type, a missing legacy id, an orphan under an `error`
-- policy or a duplicate legacy id under an `error` policy raises an error naming the user, entity,
-- path and value: the whole batch rolls back.
--
-- Run it inside a transaction, after 01_schema.sql and 02_audit.sql; REPEATABLE READ, as
-- `pgshred apply` runs it, so every statement reads the documents as of one snapshot:
--   BEGIN ISOLATION LEVEL REPEATABLE READ;
--   SELECT pgshred.begin_batch('refman', ARRAY['user-1', 'user-2']);
--   \i 03_forward.sql
--   \i 04_verify.sql      -- must return no rows
--   COMMIT;
-- `pgshred apply` does exactly this, batch by batch, with progress kept in pgshred.migration_batches.
--
-- Each entity's statement starts at its `-- pgshred:entity NAME` line. When a mapping is added or
-- changed after users were migrated, `pgshred apply` runs only the statements of the entities
-- those users need (a backfill, or a re-migration with --remap), and records a checksum of each
-- statement it ran per user, so it knows which version of each mapping every user has.

-- Naive timestamps in documents are read as UTC, whatever the session's time zone. JIT is off:
-- compiling these long, nested expressions costs seconds and saves nothing on a batch.
SET LOCAL TIME ZONE 'UTC';
SET LOCAL jit = off;

-- Notes each user's source version; a batch that re-migrates users (apply --sync or --remap) also
-- moves the rows they have of its entities aside, for rollback.
SELECT "pgshred"."refman_begin_forward"();

-- A document that is not a JSON object (JSON null, a string, a number, an array, SQL NULL) has
-- nothing to migrate, and recording it as migrated with no rows would lose it: it stops the
-- batch, naming the user (source.not_a_document: skip migrates such users with no rows).
SELECT "pgshred".not_a_document(d.user_id, d.doc)
  FROM (SELECT DISTINCT ON (s."user_id")
           s."user_id"::text AS user_id,
           s."state" AS doc
      FROM "public"."user_app_state" AS s
     WHERE s."user_id" = ANY ("pgshred".batch_users())
     ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC) AS d
 WHERE jsonb_typeof(d.doc) IS DISTINCT FROM 'object';

-- pgshred:entity library
-- library -> refman.libraries: one row per element of `$`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "refman"."libraries" (
        "id", "user_id", "legacy_id", "version", "last_sync", "extra"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'library', '$', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{}') IN ('string', 'number') AND l0.elem #>> '{}' <> ''
                        THEN l0.elem #>> '{}' ELSE '#' || l0.ord END
                END AS legacy_id
          FROM doc
         -- The document root: the document itself is the one element (when it is an object).
         CROSS JOIN LATERAL (SELECT doc.doc AS elem, 1::bigint AS ord WHERE jsonb_typeof(doc.doc) = 'object') AS l0
    ), x AS (
        -- Duplicate legacy ids are found by hashing the narrow (user_id, legacy_id) pairs, not by
        -- sorting whole elements.
        SELECT src.*, d.copies
          FROM src
          LEFT JOIN (SELECT s2.user_id, s2.legacy_id, count(*) AS copies FROM src AS s2
                      GROUP BY s2.user_id, s2.legacy_id HAVING count(*) > 1) AS d
                 ON d.user_id = src.user_id AND d.legacy_id = src.legacy_id
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'version' AS v0, jsonb_typeof(x.elem -> 'version') AS t0,
                       x.elem -> 'lastSync' AS v1, jsonb_typeof(x.elem -> 'lastSync') AS t1
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'library', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'library', x.legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number') AND x.v0 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.v0 #>> '{}')::numeric BETWEEN -2147483648 AND 2147483647
                           THEN (x.v0 #>> '{}')::numeric::integer
                           ELSE "pgshred".cast_failed(x.v0, 'integer', x.user_id, 'library', x.legacy_id,
                               'version')::integer END
                 ELSE "pgshred".cast_failed(x.v0, 'integer', x.user_id, 'library', x.legacy_id, 'version')::integer
             END, -- version
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('number', 'string') AND x.v1 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]{1,11}[ \t\n\r]*$'
                 THEN to_timestamp(btrim(x.v1 #>> '{}', E' \t\n\r')::bigint)
                 ELSE "pgshred".cast_failed(x.v1, 'timestamptz', x.user_id, 'library', x.legacy_id,
                     'lastSync')::timestamptz
             END, -- last_sync
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.elem -> 'collections' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'items' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'library' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'prefs' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'searches' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                THEN "pgshred".assemble_keys(x.elem - ARRAY['collections', 'items', 'lastSync', 'library', 'prefs',
                    'searches', 'version']::text[],
                         ARRAY['version', 'lastSync', 'collections', 'items', 'library', 'prefs', 'searches'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem -> 'collections' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'collections' END,
                               CASE WHEN x.elem -> 'items' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'items' END,
                               CASE WHEN x.elem -> 'library' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'library' END,
                               CASE WHEN x.elem -> 'prefs' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'prefs' END,
                               CASE WHEN x.elem -> 'searches' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'searches' END]::jsonb[])
                ELSE x.elem - ARRAY['collections', 'items', 'lastSync', 'library', 'prefs', 'searches',
                    'version']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'library', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'library', 'libraries',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity info
-- info -> refman.library_info: one row per element of `library`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "refman"."library_info" (
        "id", "user_id", "legacy_id", "name", "style", "locale", "extra"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'info', 'library', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{}') IN ('string', 'number') AND l0.elem #>> '{}' <> ''
                        THEN l0.elem #>> '{}' ELSE '#' || l0.ord END
                END AS legacy_id
          FROM doc
         -- A single object: the one element of its parent (when it is an object).
         CROSS JOIN LATERAL (SELECT o.elem, 1::bigint AS ord
                               FROM (SELECT doc.doc #> '{"library"}' AS elem) AS o
                              WHERE jsonb_typeof(o.elem) <> 'null') AS l0
    ), x AS (
        -- Duplicate legacy ids are found by hashing the narrow (user_id, legacy_id) pairs, not by
        -- sorting whole elements.
        SELECT src.*, d.copies
          FROM src
          LEFT JOIN (SELECT s2.user_id, s2.legacy_id, count(*) AS copies FROM src AS s2
                      GROUP BY s2.user_id, s2.legacy_id HAVING count(*) > 1) AS d
                 ON d.user_id = src.user_id AND d.legacy_id = src.legacy_id
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'name' AS v0, jsonb_typeof(x.elem -> 'name') AS t0,
                       x.elem -> 'style' AS v1, jsonb_typeof(x.elem -> 'style') AS t1,
                       x.elem -> 'locale' AS v2, jsonb_typeof(x.elem -> 'locale') AS t2
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'info', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'info', x.legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'info', x.legacy_id, 'name')::text
             END, -- name
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'info', x.legacy_id, 'style')::text
             END, -- style
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'info', x.legacy_id, 'locale')::text
             END, -- locale
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                THEN "pgshred".assemble_keys(x.elem - ARRAY['locale', 'name', 'style']::text[],
                         ARRAY['name', 'style', 'locale'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['locale', 'name', 'style']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'info', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'info', 'library_info',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity collections
-- collections -> refman.collections: one row per element of `collections`, legacy id `key`
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "refman"."collections" (
        "id", "user_id", "legacy_id", "position", "parent_id", "name", "extra"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'collections', 'collections', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"key"}') IN ('string', 'number')
                        AND l0.elem #>> '{"key"}' <> '' THEN l0.elem #>> '{"key"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'collections', 'key', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"collections"}', doc.user_id,
             'collections', 'collections', NULL))
               WITH ORDINALITY AS l0(elem, ord)
    ), x AS (
        -- Duplicate legacy ids are found by hashing the narrow (user_id, legacy_id) pairs, not by
        -- sorting whole elements.
        SELECT src.*, d.copies
          FROM src
          LEFT JOIN (SELECT s2.user_id, s2.legacy_id, count(*) AS copies FROM src AS s2
                      GROUP BY s2.user_id, s2.legacy_id HAVING count(*) > 1) AS d
                 ON d.user_id = src.user_id AND d.legacy_id = src.legacy_id
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*, q0.*,
               CASE WHEN own0.legacy_id IS NOT NULL THEN "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02',
                   'collections', x.user_id, q0.ref0) END AS rid0
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'name' AS v0, jsonb_typeof(x.elem -> 'name') AS t0
                       OFFSET 0) AS c
         -- parent_id: the collections row `parent` names, among this statement's own elements (a hash join).
         CROSS JOIN LATERAL (SELECT x.elem #> '{"parent"}' AS raw0,
                                    CASE WHEN jsonb_typeof(x.elem #> '{"parent"}') IN ('string', 'number')
                                        AND x.elem #>> '{"parent"}' <> ''
                                         THEN x.elem #>> '{"parent"}' END AS ref0
                              OFFSET 0) AS q0
          LEFT JOIN (SELECT DISTINCT s.user_id, s.legacy_id FROM x AS s) AS own0
                 ON own0.user_id = x.user_id AND own0.legacy_id = q0.ref0
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'collections', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'collections', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           x.rid0, -- parent_id
           COALESCE(CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'collections', x.legacy_id, 'name')::text
             END,
                    "pgshred".missing_required(x.user_id, 'collections', x.legacy_id, 'name')::text), -- name
           -- A reference to a row that does not exist (or a null one) is kept in extra, not lost.
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"key"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"parent"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.elem -> 'items' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                THEN "pgshred".assemble_keys(x.elem - ARRAY['items', 'key', 'name', 'parent']::text[],
                         ARRAY['key', 'parent', 'name', 'items'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"key"}') = 'number' THEN x.elem #> '{"key"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"parent"}') = 'number'
                                   THEN x.elem #> '{"parent"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem -> 'items' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'items' END]::jsonb[])
                ELSE x.elem - ARRAY['items', 'key', 'name', 'parent']::text[] END
                  || CASE WHEN x.rid0 IS NULL AND x.raw0 IS NOT NULL
                          THEN "pgshred".assemble_keys('{}'::jsonb, ARRAY['parent'], ARRAY[x.raw0])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'collections', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'collections', 'collections',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity collection_items
-- collection_items -> refman.collection_items: one row per element of `collections[*].items`, legacy id ``
--   parent collections via the enclosing element -> collection_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "refman"."collection_items" (
        "id", "user_id", "legacy_id", "position", "collection_id", "item_key"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l1.elem,
               l0.ord AS ord0,
               l1.ord AS ord1,
               CASE WHEN jsonb_typeof(l0.elem #> '{"key"}') IN ('string', 'number') AND l0.elem #>> '{"key"}' <> ''
                   THEN l0.elem #>> '{"key"}' END AS parent_legacy_id,
               '#' || l0.ord || '.' || l1.ord AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"collections"}', doc.user_id,
             'collection_items', 'collections', NULL))
               WITH ORDINALITY AS l0(elem, ord)
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(l0.elem #> '{"items"}', doc.user_id,
             'collection_items', 'collections[*].items', 'collections ' || coalesce(CASE
             WHEN jsonb_typeof(l0.elem #> '{"key"}') IN ('string', 'number') AND l0.elem #>> '{"key"}' <> ''
             THEN l0.elem #>> '{"key"}' END, '?')))
               WITH ORDINALITY AS l1(elem, ord)
    ), x AS (
        -- Duplicate legacy ids are found by hashing the narrow (user_id, legacy_id) pairs, not by
        -- sorting whole elements.
        SELECT src.*, d.copies
          FROM src
          LEFT JOIN (SELECT s2.user_id, s2.legacy_id, count(*) AS copies FROM src AS s2
                      GROUP BY s2.user_id, s2.legacy_id HAVING count(*) > 1) AS d
                 ON d.user_id = src.user_id AND d.legacy_id = src.legacy_id
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem AS v0, jsonb_typeof(x.elem) AS t0
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'collection_items', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'collection_items', x.legacy_id) END,
           x.ord1, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'collection_items', x.legacy_id, 'collections',
                    'collections[*].items', x.parent_legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'collection_items', x.legacy_id, '')::text
             END -- item_key
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "refman"."collections" AS p
                          WHERE p."id" = "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'collections',
                              x.user_id, x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'collection_items', x.legacy_id)
    ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'collection_items', 'collection_items',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity items
-- items -> refman.items: one row per element of `items`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "refman"."items" (
        "id", "user_id", "legacy_id", "position", "item_type", "title", "date_text", "published_on",
            "published_precision", "added_at", "doi", "url", "pages", "volume", "note_field", "extra"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'items', 'items', '#' || l0.ord)
                    ELSE l0.key
                END AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"items"}', doc.user_id, 'items', 'items', NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
    ), x AS (
        -- Duplicate legacy ids are found by hashing the narrow (user_id, legacy_id) pairs, not by
        -- sorting whole elements.
        SELECT src.*, d.copies
          FROM src
          LEFT JOIN (SELECT s2.user_id, s2.legacy_id, count(*) AS copies FROM src AS s2
                      GROUP BY s2.user_id, s2.legacy_id HAVING count(*) > 1) AS d
                 ON d.user_id = src.user_id AND d.legacy_id = src.legacy_id
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'itemType' AS v0, jsonb_typeof(x.elem -> 'itemType') AS t0,
                       x.elem -> 'title' AS v1, jsonb_typeof(x.elem -> 'title') AS t1,
                       x.elem -> 'date' AS v2, jsonb_typeof(x.elem -> 'date') AS t2,
                       x.elem -> 'dateAdded' AS v3, jsonb_typeof(x.elem -> 'dateAdded') AS t3,
                       x.elem -> 'DOI' AS v4, jsonb_typeof(x.elem -> 'DOI') AS t4,
                       x.elem -> 'url' AS v5, jsonb_typeof(x.elem -> 'url') AS t5,
                       x.elem -> 'pages' AS v6, jsonb_typeof(x.elem -> 'pages') AS t6,
                       x.elem -> 'volume' AS v7, jsonb_typeof(x.elem -> 'volume') AS t7,
                       x.elem -> 'extra' AS v8, jsonb_typeof(x.elem -> 'extra') AS t8
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'items', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'items', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           COALESCE(CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'items', x.legacy_id, 'itemType')::text
             END,
                    "pgshred".missing_required(x.user_id, 'items', x.legacy_id, 'itemType')::text), -- item_type
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'items', x.legacy_id, 'title')::text
             END, -- title
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'items', x.legacy_id, 'date')::text
             END, -- date_text
           COALESCE(CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 = 'string' AND x.v2 #>> '{}' ~ '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$'
                 THEN CASE WHEN "pgshred".is_date(regexp_replace(x.v2 #>> '{}',
                     '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3'), true)
                           THEN regexp_replace(x.v2 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3')::date
                           WHEN regexp_replace(x.v2 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$',
                               '\1-\2-\3') ~ '^[0-9]{4}-02-29$'
                           THEN "pgshred".try_date(regexp_replace(x.v2 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3'))
                           ELSE NULL::date
                      END
                 ELSE NULL::date
             END,
                    CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 = 'string' AND x.v2 #>> '{}' ~ '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})[ \t\n\r]*$'
                 THEN CASE WHEN "pgshred".is_date(regexp_replace(x.v2 #>> '{}',
                     '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-01'), true)
                           THEN regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})[ \t\n\r]*$',
                               '\1-\2-01')::date
                           WHEN regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})[ \t\n\r]*$',
                               '\1-\2-01') ~ '^[0-9]{4}-02-29$'
                           THEN "pgshred".try_date(regexp_replace(x.v2 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-01'))
                           ELSE NULL::date
                      END
                 ELSE NULL::date
             END,
                    CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 = 'string' AND x.v2 #>> '{}' ~ '^[ \t\n\r]*([0-9]{4})[ \t\n\r]*$'
                 THEN CASE WHEN "pgshred".is_date(regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})[ \t\n\r]*$',
                     '\1-01-01'), true)
                           THEN regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})[ \t\n\r]*$', '\1-01-01')::date
                           WHEN regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})[ \t\n\r]*$',
                               '\1-01-01') ~ '^[0-9]{4}-02-29$'
                           THEN "pgshred".try_date(regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})[ \t\n\r]*$',
                               '\1-01-01'))
                           ELSE NULL::date
                      END
                 ELSE NULL::date
             END), -- published_on: what date_text names, if it names a date
           CASE WHEN CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 = 'string' AND x.v2 #>> '{}' ~ '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$'
                 THEN CASE WHEN "pgshred".is_date(regexp_replace(x.v2 #>> '{}',
                     '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3'), true)
                           THEN regexp_replace(x.v2 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3')::date
                           WHEN regexp_replace(x.v2 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$',
                               '\1-\2-\3') ~ '^[0-9]{4}-02-29$'
                           THEN "pgshred".try_date(regexp_replace(x.v2 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3'))
                           ELSE NULL::date
                      END
                 ELSE NULL::date
             END IS NOT NULL THEN 'day' WHEN CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 = 'string' AND x.v2 #>> '{}' ~ '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})[ \t\n\r]*$'
                 THEN CASE WHEN "pgshred".is_date(regexp_replace(x.v2 #>> '{}',
                     '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-01'), true)
                           THEN regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})[ \t\n\r]*$',
                               '\1-\2-01')::date
                           WHEN regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})[ \t\n\r]*$',
                               '\1-\2-01') ~ '^[0-9]{4}-02-29$'
                           THEN "pgshred".try_date(regexp_replace(x.v2 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-01'))
                           ELSE NULL::date
                      END
                 ELSE NULL::date
             END IS NOT NULL THEN 'month' WHEN CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 = 'string' AND x.v2 #>> '{}' ~ '^[ \t\n\r]*([0-9]{4})[ \t\n\r]*$'
                 THEN CASE WHEN "pgshred".is_date(regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})[ \t\n\r]*$',
                     '\1-01-01'), true)
                           THEN regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})[ \t\n\r]*$', '\1-01-01')::date
                           WHEN regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})[ \t\n\r]*$',
                               '\1-01-01') ~ '^[0-9]{4}-02-29$'
                           THEN "pgshred".try_date(regexp_replace(x.v2 #>> '{}', '^[ \t\n\r]*([0-9]{4})[ \t\n\r]*$',
                               '\1-01-01'))
                           ELSE NULL::date
                      END
                 ELSE NULL::date
             END IS NOT NULL THEN 'year' END, -- published_precision: how much of a date it names
           CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 = 'string'
                  AND "pgshred".is_timestamp(x.v3 #>> '{}')
                 THEN (x.v3 #>> '{}')::timestamptz
                 WHEN x.t3 = 'string'
                  AND "pgshred".is_timestamp_shaped(x.v3 #>> '{}')
                 THEN "pgshred".to_timestamptz(x.v3, x.user_id, 'items', x.legacy_id, 'dateAdded')
                 ELSE "pgshred".cast_failed(x.v3, 'timestamptz', x.user_id, 'items', x.legacy_id,
                     'dateAdded')::timestamptz
             END, -- added_at
           CASE WHEN x.t4 IS NULL OR x.t4 = 'null' THEN NULL
                 WHEN x.t4 IN ('string', 'number', 'boolean') THEN x.v4 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v4, 'text', x.user_id, 'items', x.legacy_id, 'DOI')::text
             END, -- doi
           CASE WHEN x.t5 IS NULL OR x.t5 = 'null' THEN NULL
                 WHEN x.t5 IN ('string', 'number', 'boolean') THEN x.v5 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v5, 'text', x.user_id, 'items', x.legacy_id, 'url')::text
             END, -- url
           CASE WHEN x.t6 IS NULL OR x.t6 = 'null' THEN NULL
                 WHEN x.t6 IN ('string', 'number', 'boolean') THEN x.v6 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v6, 'text', x.user_id, 'items', x.legacy_id, 'pages')::text
             END, -- pages
           CASE WHEN x.t7 IS NULL OR x.t7 = 'null' THEN NULL
                 WHEN x.t7 IN ('string', 'number', 'boolean') THEN x.v7 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v7, 'text', x.user_id, 'items', x.legacy_id, 'volume')::text
             END, -- volume
           CASE WHEN x.t8 IS NULL OR x.t8 = 'null' THEN NULL
                 WHEN x.t8 IN ('string', 'number', 'boolean') THEN x.v8 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v8, 'text', x.user_id, 'items', x.legacy_id, 'extra')::text
             END, -- note_field
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                  OR x.t4 = 'null'
                  OR x.t5 = 'null'
                  OR x.t6 = 'null'
                  OR x.t7 = 'null'
                  OR x.t8 = 'null'
                  OR x.elem -> 'attachments' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'creators' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'notes' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'tags' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                THEN "pgshred".assemble_keys(x.elem - ARRAY['DOI', 'attachments', 'creators', 'date', 'dateAdded',
                    'extra', 'itemType', 'notes', 'pages', 'tags', 'title', 'url', 'volume']::text[],
                         ARRAY['itemType', 'title', 'date', 'dateAdded', 'DOI', 'url', 'pages', 'volume', 'extra',
                             'attachments', 'creators', 'notes', 'tags'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t4 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t5 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t6 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t7 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t8 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem -> 'attachments' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'attachments' END,
                               CASE WHEN x.elem -> 'creators' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'creators' END,
                               CASE WHEN x.elem -> 'notes' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'notes' END,
                               CASE WHEN x.elem -> 'tags' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'tags' END]::jsonb[])
                ELSE x.elem - ARRAY['DOI', 'attachments', 'creators', 'date', 'dateAdded', 'extra', 'itemType', 'notes',
                    'pages', 'tags', 'title', 'url', 'volume']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'items', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'items', 'items',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity creators
-- creators -> refman.creators: one row per element of `items[*].creators`, legacy id `id`
--   parent items via the enclosing element -> item_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "refman"."creators" (
        "id", "user_id", "legacy_id", "position", "item_id", "role", "first_name", "last_name", "name", "extra"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l1.elem,
               l0.ord AS ord0,
               l1.ord AS ord1,
               l0.key AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l1.elem) <> 'object'
                    THEN "pgshred".not_an_object(l1.elem, doc.user_id, 'creators', 'items[*].creators',
                        '#' || l0.ord || '.' || l1.ord)
                    ELSE CASE WHEN jsonb_typeof(l1.elem #> '{"id"}') IN ('string', 'number')
                        AND l1.elem #>> '{"id"}' <> '' THEN l1.elem #>> '{"id"}' ELSE '#' || l0.ord || '.' || l1.ord END
                END AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"items"}', doc.user_id, 'creators', 'items',
             NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(l0.elem #> '{"creators"}', doc.user_id, 'creators',
             'items[*].creators', 'items ' || coalesce(l0.key, '?')))
               WITH ORDINALITY AS l1(elem, ord)
    ), x AS (
        -- Duplicate legacy ids are found by hashing the narrow (user_id, legacy_id) pairs, not by
        -- sorting whole elements.
        SELECT src.*, d.copies
          FROM src
          LEFT JOIN (SELECT s2.user_id, s2.legacy_id, count(*) AS copies FROM src AS s2
                      GROUP BY s2.user_id, s2.legacy_id HAVING count(*) > 1) AS d
                 ON d.user_id = src.user_id AND d.legacy_id = src.legacy_id
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'creatorType' AS v0, jsonb_typeof(x.elem -> 'creatorType') AS t0,
                       x.elem -> 'firstName' AS v1, jsonb_typeof(x.elem -> 'firstName') AS t1,
                       x.elem -> 'lastName' AS v2, jsonb_typeof(x.elem -> 'lastName') AS t2,
                       x.elem -> 'name' AS v3, jsonb_typeof(x.elem -> 'name') AS t3
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'creators', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'creators', x.legacy_id) END,
           x.ord1, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'creators', x.legacy_id, 'items', 'items[*].creators',
                    x.parent_legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'creators', x.legacy_id, 'creatorType')::text
             END, -- role
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'creators', x.legacy_id, 'firstName')::text
             END, -- first_name
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'creators', x.legacy_id, 'lastName')::text
             END, -- last_name
           CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 IN ('string', 'number', 'boolean') THEN x.v3 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v3, 'text', x.user_id, 'creators', x.legacy_id, 'name')::text
             END, -- name
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                THEN "pgshred".assemble_keys(x.elem - ARRAY['creatorType', 'firstName', 'id', 'lastName',
                    'name']::text[],
                         ARRAY['id', 'creatorType', 'firstName', 'lastName', 'name'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['creatorType', 'firstName', 'id', 'lastName', 'name']::text[] END, '{}'::jsonb)
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "refman"."items" AS p
                          WHERE p."id" = "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'items', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'creators', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'creators', 'creators',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity tag_names
-- tag_names -> refman.tags: one row per element of `items[*].tags`, legacy id `tag`
--   duplicate legacy id within a user: keep_first; missing legacy id: error
WITH ins AS (
    INSERT INTO "refman"."tags" (
        "id", "user_id", "legacy_id", "name"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l1.elem,
               l0.ord AS ord0,
               l1.ord AS ord1,
               CASE WHEN jsonb_typeof(l1.elem) <> 'object'
                    THEN "pgshred".not_an_object(l1.elem, doc.user_id, 'tag_names', 'items[*].tags',
                        '#' || l0.ord || '.' || l1.ord)
                    ELSE CASE WHEN jsonb_typeof(l1.elem #> '{"tag"}') IN ('string', 'number')
                        AND l1.elem #>> '{"tag"}' <> '' THEN l1.elem #>> '{"tag"}' END
                END AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"items"}', doc.user_id, 'tag_names', 'items',
             NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(l0.elem #> '{"tags"}', doc.user_id, 'tag_names',
             'items[*].tags', 'the element at #' || l0.ord))
               WITH ORDINALITY AS l1(elem, ord)
    ), x AS (
        SELECT DISTINCT ON (src.user_id, src.legacy_id) src.*
          FROM src
         -- A lookup: one row per distinct value, the first; an element without one gives none.
         WHERE src.legacy_id IS NOT NULL
         ORDER BY src.user_id, src.legacy_id, src.ord0, src.ord1
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'tag' AS v0, jsonb_typeof(x.elem -> 'tag') AS t0
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'tag_names', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'tag_names', x.legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'tag_names', x.legacy_id, 'tag')::text
             END -- name
      FROM v AS x
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'tag_names', 'tags',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity tags
-- tags -> refman.item_tags: one row per element of `items[*].tags`, legacy id `id`
--   parent items via the enclosing element -> item_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "refman"."item_tags" (
        "id", "user_id", "legacy_id", "position", "item_id", "tag_id", "kind", "extra"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l1.elem,
               l0.ord AS ord0,
               l1.ord AS ord1,
               l0.key AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l1.elem) <> 'object'
                    THEN "pgshred".not_an_object(l1.elem, doc.user_id, 'tags', 'items[*].tags',
                        '#' || l0.ord || '.' || l1.ord)
                    ELSE CASE WHEN jsonb_typeof(l1.elem #> '{"id"}') IN ('string', 'number')
                        AND l1.elem #>> '{"id"}' <> '' THEN l1.elem #>> '{"id"}' ELSE '#' || l0.ord || '.' || l1.ord END
                END AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"items"}', doc.user_id, 'tags', 'items', NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(l0.elem #> '{"tags"}', doc.user_id, 'tags',
             'items[*].tags', 'items ' || coalesce(l0.key, '?')))
               WITH ORDINALITY AS l1(elem, ord)
    ), x AS (
        -- Duplicate legacy ids are found by hashing the narrow (user_id, legacy_id) pairs, not by
        -- sorting whole elements.
        SELECT src.*, d.copies
          FROM src
          LEFT JOIN (SELECT s2.user_id, s2.legacy_id, count(*) AS copies FROM src AS s2
                      GROUP BY s2.user_id, s2.legacy_id HAVING count(*) > 1) AS d
                 ON d.user_id = src.user_id AND d.legacy_id = src.legacy_id
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*, q0.*,
               (SELECT r."id" FROM "refman"."tags" AS r
                 WHERE r."id" = "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'tag_names', x.user_id,
                     q0.ref0) LIMIT 1) AS rid0
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'type' AS v0, jsonb_typeof(x.elem -> 'type') AS t0
                       OFFSET 0) AS c
         -- tag_id: the tag_names row `tag` names.
         CROSS JOIN LATERAL (SELECT x.elem #> '{"tag"}' AS raw0,
                                    CASE WHEN jsonb_typeof(x.elem #> '{"tag"}') IN ('string', 'number')
                                        AND x.elem #>> '{"tag"}' <> ''
                                         THEN x.elem #>> '{"tag"}' END AS ref0
                              OFFSET 0) AS q0
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'tags', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'tags', x.legacy_id) END,
           x.ord1, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'tags', x.legacy_id, 'items', 'items[*].tags',
                    x.parent_legacy_id) END,
           CASE WHEN x.raw0 IS NULL OR x.raw0 = 'null'::jsonb OR x.rid0 IS NOT NULL THEN x.rid0
                ELSE "pgshred".missing_reference(x.user_id, 'tags', x.legacy_id, 'tag_names', 'tag', x.raw0) END,
                -- tag_id
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number') AND x.v0 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.v0 #>> '{}')::numeric BETWEEN -2147483648 AND 2147483647
                           THEN (x.v0 #>> '{}')::numeric::integer
                           ELSE "pgshred".cast_failed(x.v0, 'integer', x.user_id, 'tags', x.legacy_id,
                               'type')::integer END
                 ELSE "pgshred".cast_failed(x.v0, 'integer', x.user_id, 'tags', x.legacy_id, 'type')::integer
             END, -- kind
           -- A reference to a row that does not exist (or a null one) is kept in extra, not lost.
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"tag"}') = 'number'
                  OR x.t0 = 'null'
                THEN "pgshred".assemble_keys(x.elem - ARRAY['id', 'tag', 'type']::text[],
                         ARRAY['id', 'tag', 'type'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"tag"}') = 'number' THEN x.elem #> '{"tag"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['id', 'tag', 'type']::text[] END
                  || CASE WHEN x.rid0 IS NULL AND x.raw0 IS NOT NULL
                          THEN "pgshred".assemble_keys('{}'::jsonb, ARRAY['tag'], ARRAY[x.raw0])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "refman"."items" AS p
                          WHERE p."id" = "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'items', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'tags', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'tags', 'item_tags',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity notes
-- notes -> refman.notes: one row per element of `items[*].notes`, legacy id `id`
--   parent items via the enclosing element -> item_id; parent missing: error
--   duplicate legacy id within a parent: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "refman"."notes" (
        "id", "user_id", "legacy_id", "position", "item_id", "html", "extra"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l1.elem,
               l0.ord AS ord0,
               l1.ord AS ord1,
               l0.key AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l1.elem) <> 'object'
                    THEN "pgshred".not_an_object(l1.elem, doc.user_id, 'notes', 'items[*].notes',
                        '#' || l0.ord || '.' || l1.ord)
                    ELSE CASE WHEN jsonb_typeof(l1.elem #> '{"id"}') IN ('string', 'number')
                        AND l1.elem #>> '{"id"}' <> '' THEN l1.elem #>> '{"id"}' ELSE "pgshred".missing_id(l1.elem,
                        doc.user_id, 'notes', 'id', '#' || l0.ord || '.' || l1.ord) END
                END AS legacy_id,
               -- Legacy ids are unique per parent: the key of a row is its parent's legacy id (its
               -- length first, so no two pairs read alike) and its own.
               pg_catalog.length(l0.key)::text || ':' || l0.key || ':' || CASE
                   WHEN jsonb_typeof(l1.elem #> '{"id"}') IN ('string', 'number') AND l1.elem #>> '{"id"}' <> ''
                   THEN l1.elem #>> '{"id"}' ELSE "pgshred".missing_id(l1.elem, doc.user_id, 'notes', 'id',
                   '#' || l0.ord || '.' || l1.ord) END AS id_key
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"items"}', doc.user_id, 'notes', 'items', NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(l0.elem #> '{"notes"}', doc.user_id, 'notes',
             'items[*].notes', 'items ' || coalesce(l0.key, '?')))
               WITH ORDINALITY AS l1(elem, ord)
    ), x AS (
        -- Duplicate legacy ids are found by hashing the narrow (user_id, legacy_id) pairs, not by
        -- sorting whole elements.
        SELECT src.*, d.copies
          FROM src
          LEFT JOIN (SELECT s2.user_id, s2.id_key, count(*) AS copies FROM src AS s2
                      GROUP BY s2.user_id, s2.id_key HAVING count(*) > 1) AS d
                 ON d.user_id = src.user_id AND d.id_key = src.id_key
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'html' AS v0, jsonb_typeof(x.elem -> 'html') AS t0
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'notes', x.user_id, x.id_key),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'notes', x.legacy_id) END,
           x.ord1, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'notes', x.legacy_id, 'items', 'items[*].notes',
                    x.parent_legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'notes', x.legacy_id, 'html')::text
             END, -- html
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'string'
                  OR x.t0 = 'null'
                THEN "pgshred".assemble_keys(x.elem - ARRAY['html', 'id']::text[],
                         ARRAY['id', 'html'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'string' THEN x.elem #> '{"id"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['html', 'id']::text[] END, '{}'::jsonb)
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "refman"."items" AS p
                          WHERE p."id" = "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'items', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'notes', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'notes', 'notes',
       -- A legacy id may repeat under several parents: the id breaks the tie, so both arrays
       -- list the rows in one order.
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id", ins."id"), array_agg(ins."id" ORDER BY ins."legacy_id",
           ins."id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity attachments
-- attachments -> refman.attachments: one row per element of `items[*].attachments`, legacy id ``
--   parent items via the enclosing element -> item_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "refman"."attachments" (
        "id", "user_id", "legacy_id", "position", "item_id", "filename", "size_bytes", "md5", "extra"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l1.elem,
               l0.ord AS ord0,
               l1.ord AS ord1,
               l0.key AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l1.elem) <> 'object'
                    THEN "pgshred".not_an_object(l1.elem, doc.user_id, 'attachments', 'items[*].attachments',
                        '#' || l0.ord || '.' || l1.ord)
                    ELSE l1.key
                END AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"items"}', doc.user_id, 'attachments', 'items',
             NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(l0.elem #> '{"attachments"}', doc.user_id, 'attachments',
             'items[*].attachments', 'items ' || coalesce(l0.key, '?')))
               WITH ORDINALITY AS l1(key, elem, ord)
    ), x AS (
        -- Duplicate legacy ids are found by hashing the narrow (user_id, legacy_id) pairs, not by
        -- sorting whole elements.
        SELECT src.*, d.copies
          FROM src
          LEFT JOIN (SELECT s2.user_id, s2.legacy_id, count(*) AS copies FROM src AS s2
                      GROUP BY s2.user_id, s2.legacy_id HAVING count(*) > 1) AS d
                 ON d.user_id = src.user_id AND d.legacy_id = src.legacy_id
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'filename' AS v0, jsonb_typeof(x.elem -> 'filename') AS t0,
                       x.elem -> 'size.bytes' AS v1, jsonb_typeof(x.elem -> 'size.bytes') AS t1,
                       x.elem -> 'md5' AS v2, jsonb_typeof(x.elem -> 'md5') AS t2
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'attachments', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'attachments', x.legacy_id) END,
           x.ord1, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'attachments', x.legacy_id, 'items', 'items[*].attachments',
                    x.parent_legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'attachments', x.legacy_id, 'filename')::text
             END, -- filename
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number') AND x.v1 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.v1 #>> '{}')::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
                           THEN (x.v1 #>> '{}')::numeric::bigint
                           ELSE "pgshred".cast_failed(x.v1, 'bigint', x.user_id, 'attachments', x.legacy_id,
                               '"size.bytes"')::bigint END
                 ELSE "pgshred".cast_failed(x.v1, 'bigint', x.user_id, 'attachments', x.legacy_id,
                     '"size.bytes"')::bigint
             END, -- size_bytes
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'attachments', x.legacy_id, 'md5')::text
             END, -- md5
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                THEN "pgshred".assemble_keys(x.elem - ARRAY['filename', 'md5', 'size.bytes']::text[],
                         ARRAY['filename', '["size.bytes"]', 'md5'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['filename', 'md5', 'size.bytes']::text[] END, '{}'::jsonb)
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "refman"."items" AS p
                          WHERE p."id" = "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'items', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'attachments', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'attachments', 'attachments',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity searches
-- searches -> refman.saved_searches: one row per element of `searches`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "refman"."saved_searches" (
        "id", "user_id", "legacy_id", "position", "name", "conditions", "extra"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'searches', 'searches', '#' || l0.ord)
                    ELSE l0.key
                END AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"searches"}', doc.user_id, 'searches',
             'searches', NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
    ), x AS (
        -- Duplicate legacy ids are found by hashing the narrow (user_id, legacy_id) pairs, not by
        -- sorting whole elements.
        SELECT src.*, d.copies
          FROM src
          LEFT JOIN (SELECT s2.user_id, s2.legacy_id, count(*) AS copies FROM src AS s2
                      GROUP BY s2.user_id, s2.legacy_id HAVING count(*) > 1) AS d
                 ON d.user_id = src.user_id AND d.legacy_id = src.legacy_id
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'name' AS v0, jsonb_typeof(x.elem -> 'name') AS t0,
                       x.elem -> 'conditions' AS v1, jsonb_typeof(x.elem -> 'conditions') AS t1
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'searches', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'searches', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'searches', x.legacy_id, 'name')::text
             END, -- name
           NULLIF(x.v1, 'null'::jsonb), -- conditions
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                THEN "pgshred".assemble_keys(x.elem - ARRAY['conditions', 'name']::text[],
                         ARRAY['name', 'conditions'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['conditions', 'name']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'searches', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'searches', 'saved_searches',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity prefs
-- prefs -> refman.library_prefs: one row per element of `prefs`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "refman"."library_prefs" (
        "id", "user_id", "legacy_id", "citation_style", "sync_enabled", "export_format", "extra"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'prefs', 'prefs', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{}') IN ('string', 'number') AND l0.elem #>> '{}' <> ''
                        THEN l0.elem #>> '{}' ELSE '#' || l0.ord END
                END AS legacy_id
          FROM doc
         -- A single object: the one element of its parent (when it is an object).
         CROSS JOIN LATERAL (SELECT o.elem, 1::bigint AS ord
                               FROM (SELECT doc.doc #> '{"prefs"}' AS elem) AS o
                              WHERE jsonb_typeof(o.elem) <> 'null') AS l0
    ), x AS (
        -- Duplicate legacy ids are found by hashing the narrow (user_id, legacy_id) pairs, not by
        -- sorting whole elements.
        SELECT src.*, d.copies
          FROM src
          LEFT JOIN (SELECT s2.user_id, s2.legacy_id, count(*) AS copies FROM src AS s2
                      GROUP BY s2.user_id, s2.legacy_id HAVING count(*) > 1) AS d
                 ON d.user_id = src.user_id AND d.legacy_id = src.legacy_id
    ), v AS (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'citation.style' AS v0, jsonb_typeof(x.elem -> 'citation.style') AS t0,
                       x.elem #> '{"sync","enabled"}' AS v1, jsonb_typeof(x.elem #> '{"sync","enabled"}') AS t1,
                       x.elem -> 'export.format' AS v2, jsonb_typeof(x.elem -> 'export.format') AS t2
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('2c9d7e5a-1f3b-4a6c-8e0d-5b7a9c1e3f02', 'prefs', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'prefs', x.legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'prefs', x.legacy_id, '"citation.style"')::text
             END, -- citation_style
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 = 'boolean' THEN (x.v1 #>> '{}')::boolean
                 WHEN x.t1 IN ('string', 'number')
                  AND lower(btrim(x.v1 #>> '{}', E' \t\n\r')) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n',
                      'on', 'off', '1', '0')
                 THEN lower(btrim(x.v1 #>> '{}', E' \t\n\r'))::boolean
                 ELSE "pgshred".cast_failed(x.v1, 'boolean', x.user_id, 'prefs', x.legacy_id, 'sync.enabled')::boolean
             END, -- sync_enabled
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'prefs', x.legacy_id, '"export.format"')::text
             END, -- export_format
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.elem #> '{"sync"}' = '{}'::jsonb
                THEN "pgshred".assemble_keys("pgshred".prune(x.elem - ARRAY['citation.style',
                    'export.format']::text[] #- '{"sync","enabled"}', '{"sync"}'),
                         ARRAY['["citation.style"]', 'sync.enabled', '["export.format"]', 'sync'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem #> '{"sync"}' = '{}'::jsonb THEN '{}'::jsonb END]::jsonb[])
                ELSE "pgshred".prune(x.elem - ARRAY['citation.style', 'export.format']::text[] #- '{"sync","enabled"}',
                    '{"sync"}') END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'prefs', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'prefs', 'library_prefs',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";
