-- pgshred 0.1.0 -- plan outliner: forward migration of ONE batch of users.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- Set-based: each entity is one INSERT ... SELECT over every user of the batch, parents before
-- children (account, graph, pages, page_tags, blocks, block_props, block_refs, daily_notes).
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
--   SELECT pgshred.begin_batch('outliner', ARRAY['user-1', 'user-2']);
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
SELECT "pgshred"."outliner_begin_forward"();

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

-- pgshred:entity account
-- account -> outliner.accounts: one row per element of `$`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "outliner"."accounts" (
        "id", "user_id", "legacy_id", "extra"
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
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'account', '$', '#' || l0.ord)
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
        SELECT x.*
          FROM x
    )
    SELECT "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'account', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'account', x.legacy_id) END,
           NULLIF(CASE WHEN x.elem -> 'dailyNotes' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'graph' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'pages' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                THEN "pgshred".assemble(x.elem - ARRAY['dailyNotes', 'graph', 'pages']::text[],
                         ARRAY['dailyNotes', 'graph', 'pages'],
                         ARRAY[CASE WHEN x.elem -> 'dailyNotes' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                             THEN x.elem -> 'dailyNotes' END,
                               CASE WHEN x.elem -> 'graph' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'graph' END,
                               CASE WHEN x.elem -> 'pages' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'pages' END]::jsonb[])
                ELSE x.elem - ARRAY['dailyNotes', 'graph', 'pages']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'account', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'account', 'accounts',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity graph
-- graph -> outliner.graphs: one row per element of `graph`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "outliner"."graphs" (
        "id", "user_id", "legacy_id", "name", "version", "config", "extra"
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
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'graph', 'graph', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{}') IN ('string', 'number') AND l0.elem #>> '{}' <> ''
                        THEN l0.elem #>> '{}' ELSE '#' || l0.ord END
                END AS legacy_id
          FROM doc
         -- A single object: the one element of its parent (when it is an object).
         CROSS JOIN LATERAL (SELECT o.elem, 1::bigint AS ord
                               FROM (SELECT doc.doc #> '{"graph"}' AS elem) AS o
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
                       x.elem -> 'version' AS v1, jsonb_typeof(x.elem -> 'version') AS t1,
                       x.elem -> 'config' AS v2, jsonb_typeof(x.elem -> 'config') AS t2
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'graph', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'graph', x.legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'graph', x.legacy_id, 'name')::text
             END, -- name
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number') AND x.v1 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.v1 #>> '{}')::numeric BETWEEN -2147483648 AND 2147483647
                           THEN (x.v1 #>> '{}')::numeric::integer
                           ELSE "pgshred".cast_failed(x.v1, 'integer', x.user_id, 'graph', x.legacy_id,
                               'version')::integer END
                 ELSE "pgshred".cast_failed(x.v1, 'integer', x.user_id, 'graph', x.legacy_id, 'version')::integer
             END, -- version
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 = 'string'
                 THEN NULLIF(COALESCE("pgshred".try_json_text(x.v2 #>> '{}'), "pgshred".cast_failed(x.v2, 'jsonb',
                     x.user_id, 'graph', x.legacy_id, 'config')::jsonb), 'null'::jsonb)
                 ELSE "pgshred".cast_failed(x.v2, 'jsonb', x.user_id, 'graph', x.legacy_id, 'config')::jsonb
             END, -- config
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR (x.t2 = 'null' OR (x.t2 = 'string' AND btrim(x.v2 #>> '{}', E' \t\n\r') = 'null'))
                THEN "pgshred".assemble(x.elem - ARRAY['config', 'name', 'version']::text[],
                         ARRAY['name', 'version', 'config'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN (x.t2 = 'null' OR (x.t2 = 'string' AND btrim(x.v2 #>> '{}',
                                   E' \t\n\r') = 'null')) THEN x.v2 END]::jsonb[])
                ELSE x.elem - ARRAY['config', 'name', 'version']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'graph', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'graph', 'graphs',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity pages
-- pages -> outliner.pages: one row per element of `pages`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "outliner"."pages" (
        "id", "user_id", "legacy_id", "position", "title", "written_at", "extra"
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
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'pages', 'pages', '#' || l0.ord)
                    ELSE l0.key
                END AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"pages"}', doc.user_id, 'pages', 'pages', NULL))
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
                       x.elem -> 'title' AS v0, jsonb_typeof(x.elem -> 'title') AS t0,
                       x.elem -> 'created' AS v1, jsonb_typeof(x.elem -> 'created') AS t1
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'pages', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'pages', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           COALESCE(CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'pages', x.legacy_id, 'title')::text
             END,
                    "pgshred".missing_required(x.user_id, 'pages', x.legacy_id, 'title')::text), -- title
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('number', 'string') AND x.v1 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]{1,14}[ \t\n\r]*$'
                 THEN to_timestamp(btrim(x.v1 #>> '{}', E' \t\n\r')::bigint / 1000) + (btrim(x.v1 #>> '{}',
                     E' \t\n\r')::bigint % 1000) * interval '1 millisecond'
                 ELSE "pgshred".cast_failed(x.v1, 'timestamptz', x.user_id, 'pages', x.legacy_id,
                     'created')::timestamptz
             END, -- written_at
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.elem -> 'blocks' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'tags' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                THEN "pgshred".assemble(x.elem - ARRAY['blocks', 'created', 'tags', 'title']::text[],
                         ARRAY['title', 'created', 'blocks', 'tags'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem -> 'blocks' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'blocks' END,
                               CASE WHEN x.elem -> 'tags' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'tags' END]::jsonb[])
                ELSE x.elem - ARRAY['blocks', 'created', 'tags', 'title']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'pages', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'pages', 'pages',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity page_tags
-- page_tags -> outliner.page_tags: one row per element of `pages[*].tags`, legacy id ``
--   parent pages via the enclosing element -> page_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "outliner"."page_tags" (
        "id", "user_id", "legacy_id", "position", "page_id", "tag"
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
               '#' || l0.ord || '.' || l1.ord AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"pages"}', doc.user_id, 'page_tags', 'pages',
             NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(l0.elem #> '{"tags"}', doc.user_id, 'page_tags',
             'pages[*].tags', 'pages ' || coalesce(l0.key, '?')))
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
    SELECT "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'page_tags', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'page_tags', x.legacy_id) END,
           x.ord1, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'page_tags', x.legacy_id, 'pages', 'pages[*].tags',
                    x.parent_legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'page_tags', x.legacy_id, '')::text
             END -- tag
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "outliner"."pages" AS p
                          WHERE p."id" = "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'pages', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'page_tags', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'page_tags', 'page_tags',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity blocks
-- blocks -> outliner.blocks: one row per element of `pages[*].blocks`, legacy id `uid`
--   parent pages via the enclosing element -> page_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "outliner"."blocks" (
        "id", "user_id", "legacy_id", "position", "page_id", "parent_block_id", "depth", "embed_block_id",
            "embed_page_id", "text", "heading", "open", "written_at", "extra"
    )
    WITH doc AS (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS (
        WITH RECURSIVE tree AS (
            SELECT t.*, NULL::text AS tree_parent_legacy, 1 AS depth,
                   '#' || t.ord0 || '.' || t.ord1 AS tree_pos,
                   ARRAY[t.ord1]::bigint[] AS tree_path
              FROM (SELECT doc.user_id,
                         l1.elem,
                         l0.ord AS ord0,
                         l1.ord AS ord1,
                         l0.key AS parent_legacy_id,
                         CASE WHEN jsonb_typeof(l1.elem) <> 'object'
                              THEN "pgshred".not_an_object(l1.elem, doc.user_id, 'blocks', 'pages[*].blocks',
                                  '#' || l0.ord || '.' || l1.ord)
                              ELSE CASE WHEN jsonb_typeof(l1.elem #> '{"uid"}') IN ('string', 'number')
                                  AND l1.elem #>> '{"uid"}' <> '' THEN l1.elem #>> '{"uid"}'
                                  ELSE "pgshred".missing_id(l1.elem, doc.user_id, 'blocks', 'uid',
                                  '#' || l0.ord || '.' || l1.ord) END
                          END AS legacy_id
                    FROM doc
                   -- An object keyed by id: each member an element, its key the legacy id.
                   CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"pages"}', doc.user_id, 'blocks',
                       'pages', NULL))
                         WITH ORDINALITY AS l0(key, elem, ord)
                   CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(l0.elem #> '{"blocks"}', doc.user_id,
                       'blocks', 'pages[*].blocks', 'pages ' || coalesce(l0.key, '?')))
                         WITH ORDINALITY AS l1(elem, ord)) AS t
            UNION ALL
            SELECT t.user_id, c.elem, t.ord0, c.ord, t.parent_legacy_id,
                   CASE WHEN t.depth >= 64
                        THEN "pgshred".too_deep(c.elem, t.user_id, 'blocks', 'pages[*].blocks[*].children',
                                             CASE WHEN jsonb_typeof(c.elem #> '{"uid"}') IN ('string', 'number')
                                                 AND c.elem #>> '{"uid"}' <> '' THEN c.elem #>> '{"uid"}'
                                                 ELSE t.tree_pos || '.' || c.ord END, 64)
                        WHEN jsonb_typeof(c.elem) <> 'object'
                        THEN "pgshred".not_an_object(c.elem, t.user_id, 'blocks', 'pages[*].blocks[*].children',
                            t.tree_pos || '.' || c.ord)
                        ELSE CASE WHEN jsonb_typeof(c.elem #> '{"uid"}') IN ('string', 'number')
                            AND c.elem #>> '{"uid"}' <> '' THEN c.elem #>> '{"uid"}' ELSE "pgshred".missing_id(c.elem,
                            doc.user_id, 'blocks', 'uid', t.tree_pos || '.' || c.ord) END
                    END,
                   t.legacy_id, t.depth + 1, t.tree_pos || '.' || c.ord, t.tree_path || c.ord
              FROM tree AS t
             -- `doc` names the user for the messages of the legacy id check.
             CROSS JOIN LATERAL (SELECT t.user_id) AS doc(user_id)
             CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(t.elem #> '{"children"}', t.user_id, 'blocks',
                 'pages[*].blocks[*].children',
                                                      'blocks ' || coalesce(t.legacy_id, '?')))
                   WITH ORDINALITY AS c(elem, ord)
             WHERE jsonb_typeof(t.elem) = 'object' AND t.depth <= 64
        )
        SELECT * FROM tree
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
               CASE WHEN own0.legacy_id IS NOT NULL THEN "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03',
                   'blocks', x.user_id, q0.ref0) END AS rid0, q1.*,
               (SELECT r."id" FROM "outliner"."pages" AS r
                 WHERE r."id" = "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'pages', x.user_id,
                     q1.ref1) LIMIT 1) AS rid1
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'string' AS v0, jsonb_typeof(x.elem -> 'string') AS t0,
                       x.elem -> 'heading' AS v1, jsonb_typeof(x.elem -> 'heading') AS t1,
                       x.elem -> 'open' AS v2, jsonb_typeof(x.elem -> 'open') AS t2,
                       x.elem -> 'created' AS v3, jsonb_typeof(x.elem -> 'created') AS t3
                       OFFSET 0) AS c
         -- embed_block_id: the blocks row `embed` names, among this statement's own elements (a hash join).
         CROSS JOIN LATERAL (SELECT x.elem #> '{"embed"}' AS raw0,
                                    CASE WHEN jsonb_typeof(x.elem #> '{"embed"}') IN ('string', 'number')
                                        AND x.elem #>> '{"embed"}' <> ''
                                         THEN x.elem #>> '{"embed"}' END AS ref0
                              OFFSET 0) AS q0
          LEFT JOIN (SELECT DISTINCT s.user_id, s.legacy_id FROM x AS s) AS own0
                 ON own0.user_id = x.user_id AND own0.legacy_id = q0.ref0
         -- embed_page_id: the pages row `embed` names.
         CROSS JOIN LATERAL (SELECT x.elem #> '{"embed"}' AS raw1,
                                    CASE WHEN jsonb_typeof(x.elem #> '{"embed"}') IN ('string', 'number')
                                        AND x.elem #>> '{"embed"}' <> ''
                                         THEN x.elem #>> '{"embed"}' END AS ref1
                              OFFSET 0) AS q1
    )
    SELECT "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'blocks', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'blocks', x.legacy_id) END,
           x.ord1, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'blocks', x.legacy_id, 'pages', 'pages[*].blocks',
                    x.parent_legacy_id) END,
           CASE WHEN x.tree_parent_legacy IS NOT NULL
                THEN "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'blocks', x.user_id,
                    x.tree_parent_legacy) END,
                -- parent_block_id: its parent in the tree
           x.depth, -- depth
           x.rid0, -- embed_block_id
           -- One of several entities: NULL where blocks holds the id.
           CASE WHEN x.rid0 IS NOT NULL THEN NULL ELSE
           x.rid1 END, -- embed_page_id
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'blocks', x.legacy_id, 'string')::text
             END, -- text
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number') AND x.v1 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.v1 #>> '{}')::numeric BETWEEN -2147483648 AND 2147483647
                           THEN (x.v1 #>> '{}')::numeric::integer
                           ELSE "pgshred".cast_failed(x.v1, 'integer', x.user_id, 'blocks', x.legacy_id,
                               'heading')::integer END
                 ELSE "pgshred".cast_failed(x.v1, 'integer', x.user_id, 'blocks', x.legacy_id, 'heading')::integer
             END, -- heading
           COALESCE(CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 = 'boolean' THEN (x.v2 #>> '{}')::boolean
                 WHEN x.t2 IN ('string', 'number')
                  AND lower(btrim(x.v2 #>> '{}', E' \t\n\r')) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n',
                      'on', 'off', '1', '0')
                 THEN lower(btrim(x.v2 #>> '{}', E' \t\n\r'))::boolean
                 ELSE "pgshred".cast_failed(x.v2, 'boolean', x.user_id, 'blocks', x.legacy_id, 'open')::boolean
             END,
                    'true'::boolean), -- open
           CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 IN ('number', 'string') AND x.v3 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]{1,14}[ \t\n\r]*$'
                 THEN to_timestamp(btrim(x.v3 #>> '{}', E' \t\n\r')::bigint / 1000) + (btrim(x.v3 #>> '{}',
                     E' \t\n\r')::bigint % 1000) * interval '1 millisecond'
                 ELSE "pgshred".cast_failed(x.v3, 'timestamptz', x.user_id, 'blocks', x.legacy_id,
                     'created')::timestamptz
             END, -- written_at
           -- A reference to a row that does not exist (or a null one) is kept in extra, not lost.
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"uid"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"embed"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                  OR x.elem -> 'children' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'props' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'refs' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                THEN "pgshred".assemble(x.elem - ARRAY['children', 'created', 'embed', 'heading', 'open', 'props',
                    'refs', 'string', 'uid']::text[],
                         ARRAY['uid', 'embed', 'string', 'heading', 'open', 'created', 'children', 'props', 'refs'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"uid"}') = 'number' THEN x.elem #> '{"uid"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"embed"}') = 'number' THEN x.elem #> '{"embed"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem -> 'children' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'children' END,
                               CASE WHEN x.elem -> 'props' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'props' END,
                               CASE WHEN x.elem -> 'refs' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'refs' END]::jsonb[])
                ELSE x.elem - ARRAY['children', 'created', 'embed', 'heading', 'open', 'props', 'refs', 'string',
                    'uid']::text[] END
                  || CASE WHEN x.rid1 IS NULL AND x.rid0 IS NULL AND x.raw1 IS NOT NULL
                          THEN "pgshred".assemble('{}'::jsonb, ARRAY['embed'], ARRAY[x.raw1])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "outliner"."pages" AS p
                          WHERE p."id" = "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'pages', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'blocks', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'blocks', 'blocks',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity block_props
-- block_props -> outliner.block_props: one row per element of `pages[*].blocks[*].props`, legacy id ``
--   parent blocks via the enclosing element -> block_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "outliner"."block_props" (
        "id", "user_id", "legacy_id", "block_id", "status", "extra"
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
               l2.elem,
               l0.ord AS ord0,
               l1.ord AS ord1,
               l2.ord AS ord2,
               CASE WHEN jsonb_typeof(l1.elem #> '{"uid"}') IN ('string', 'number') AND l1.elem #>> '{"uid"}' <> ''
                   THEN l1.elem #>> '{"uid"}' END AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l2.elem) <> 'object'
                    THEN "pgshred".not_an_object(l2.elem, doc.user_id, 'block_props', 'pages[*].blocks[*].props',
                        '#' || l0.ord || '.' || l1.ord || '.' || l2.ord)
                    ELSE CASE WHEN jsonb_typeof(l2.elem #> '{}') IN ('string', 'number') AND l2.elem #>> '{}' <> ''
                        THEN l2.elem #>> '{}' ELSE '#' || l0.ord || '.' || l1.ord || '.' || l2.ord END
                END AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"pages"}', doc.user_id, 'block_props', 'pages',
             NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
         -- Every node of the tree, at any depth, its place the path of its positions (the tree's own
         -- statement, written before this one, checked its shape).
         CROSS JOIN LATERAL (WITH RECURSIVE n(elem, ord) AS (
                                 SELECT a.elem, a.ord::text
                                   FROM jsonb_array_elements("pgshred".array_or_empty(l0.elem #> '{"blocks"}')) WITH
                                       ORDINALITY AS a(elem, ord)
                                 UNION ALL
                                 SELECT c.elem, n.ord || '.' || c.ord
                                   FROM n CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(n.elem #>
                                       '{"children"}')) WITH ORDINALITY AS c(elem, ord)
                             ) SELECT n.elem, n.ord FROM n) AS l1
         -- A single object: the one element of its parent (when it is an object).
         CROSS JOIN LATERAL (SELECT o.elem, 1::bigint AS ord
                               FROM (SELECT l1.elem #> '{"props"}' AS elem) AS o
                              WHERE jsonb_typeof(o.elem) <> 'null') AS l2
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
                       x.elem -> 'status' AS v0, jsonb_typeof(x.elem -> 'status') AS t0
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'block_props', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'block_props', x.legacy_id) END,
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'block_props', x.legacy_id, 'blocks',
                    'pages[*].blocks[*].props', x.parent_legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'block_props', x.legacy_id, 'status')::text
             END, -- status
           NULLIF(CASE WHEN x.t0 = 'null'
                THEN "pgshred".assemble(x.elem - ARRAY['status']::text[],
                         ARRAY['status'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['status']::text[] END, '{}'::jsonb)
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "outliner"."blocks" AS p
                          WHERE p."id" = "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'blocks', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'block_props', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'block_props', 'block_props',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity block_refs
-- block_refs -> outliner.block_refs: one row per element of `pages[*].blocks[*].refs`, legacy id ``
--   parent blocks via the enclosing element -> block_id; parent missing: error
--   duplicate legacy id within a parent: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "outliner"."block_refs" (
        "id", "user_id", "legacy_id", "position", "block_id", "ref_block_id", "ref_uid"
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
               l2.elem,
               l0.ord AS ord0,
               l1.ord AS ord1,
               l2.ord AS ord2,
               CASE WHEN jsonb_typeof(l1.elem #> '{"uid"}') IN ('string', 'number') AND l1.elem #>> '{"uid"}' <> ''
                   THEN l1.elem #>> '{"uid"}' END AS parent_legacy_id,
               '#' || l2.ord AS legacy_id,
               -- Legacy ids are unique per parent: the key of a row is its parent's legacy id (its
               -- length first, so no two pairs read alike) and its own.
               pg_catalog.length(CASE WHEN jsonb_typeof(l1.elem #> '{"uid"}') IN ('string', 'number')
                   AND l1.elem #>> '{"uid"}' <> '' THEN l1.elem #>> '{"uid"}' END)::text || ':' || CASE
                   WHEN jsonb_typeof(l1.elem #> '{"uid"}') IN ('string', 'number') AND l1.elem #>> '{"uid"}' <> ''
                   THEN l1.elem #>> '{"uid"}' END || ':' || '#' || l2.ord AS id_key
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"pages"}', doc.user_id, 'block_refs', 'pages',
             NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
         -- Every node of the tree, at any depth, its place the path of its positions (the tree's own
         -- statement, written before this one, checked its shape).
         CROSS JOIN LATERAL (WITH RECURSIVE n(elem, ord) AS (
                                 SELECT a.elem, a.ord::text
                                   FROM jsonb_array_elements("pgshred".array_or_empty(l0.elem #> '{"blocks"}')) WITH
                                       ORDINALITY AS a(elem, ord)
                                 UNION ALL
                                 SELECT c.elem, n.ord || '.' || c.ord
                                   FROM n CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(n.elem #>
                                       '{"children"}')) WITH ORDINALITY AS c(elem, ord)
                             ) SELECT n.elem, n.ord FROM n) AS l1
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(l1.elem #> '{"refs"}', doc.user_id, 'block_refs',
             'pages[*].blocks[*].refs', 'blocks ' || coalesce(CASE WHEN jsonb_typeof(l1.elem #> '{"uid"}') IN ('string',
             'number') AND l1.elem #>> '{"uid"}' <> '' THEN l1.elem #>> '{"uid"}' END, '?')))
               WITH ORDINALITY AS l2(elem, ord)
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
        SELECT x.*, c.*, q0.*,
               (SELECT r."id" FROM "outliner"."blocks" AS r
                 WHERE r."id" = "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'blocks', x.user_id,
                     q0.ref0) LIMIT 1) AS rid0
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem AS v0, jsonb_typeof(x.elem) AS t0
                       OFFSET 0) AS c
         -- ref_block_id: the blocks row `` names.
         CROSS JOIN LATERAL (SELECT x.elem #> '{}' AS raw0,
                                    CASE WHEN jsonb_typeof(x.elem #> '{}') IN ('string', 'number')
                                        AND x.elem #>> '{}' <> ''
                                         THEN x.elem #>> '{}' END AS ref0
                              OFFSET 0) AS q0
    )
    SELECT "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'block_refs', x.user_id, x.id_key),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'block_refs', x.legacy_id) END,
           x.ord2, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'block_refs', x.legacy_id, 'blocks', 'pages[*].blocks[*].refs',
                    x.parent_legacy_id) END,
           x.rid0, -- ref_block_id
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'block_refs', x.legacy_id, '')::text
             END -- ref_uid
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "outliner"."blocks" AS p
                          WHERE p."id" = "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'blocks', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'block_refs', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'block_refs', 'block_refs',
       -- A legacy id may repeat under several parents: the id breaks the tie, so both arrays
       -- list the rows in one order.
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id", ins."id"), array_agg(ins."id" ORDER BY ins."legacy_id",
           ins."id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity daily_notes
-- daily_notes -> outliner.daily_notes: one row per element of `dailyNotes`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "outliner"."daily_notes" (
        "id", "user_id", "legacy_id", "position", "page_id", "page_uid"
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
               l0.key AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"dailyNotes"}', doc.user_id, 'daily_notes',
             'dailyNotes', NULL))
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
        SELECT x.*, c.*, q0.*,
               (SELECT r."id" FROM "outliner"."pages" AS r
                 WHERE r."id" = "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'pages', x.user_id,
                     q0.ref0) LIMIT 1) AS rid0
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem AS v0, jsonb_typeof(x.elem) AS t0
                       OFFSET 0) AS c
         -- page_id: the pages row `` names.
         CROSS JOIN LATERAL (SELECT x.elem #> '{}' AS raw0,
                                    CASE WHEN jsonb_typeof(x.elem #> '{}') IN ('string', 'number')
                                        AND x.elem #>> '{}' <> ''
                                         THEN x.elem #>> '{}' END AS ref0
                              OFFSET 0) AS q0
    )
    SELECT "pgshred".row_id('3d8f6e4c-9a1b-4c2d-8e7f-6a5b4c3d2e03', 'daily_notes', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'daily_notes', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           x.rid0, -- page_id
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'daily_notes', x.legacy_id, '')::text
             END -- page_uid
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'daily_notes', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'daily_notes', 'daily_notes',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";
