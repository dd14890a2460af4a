-- pgshred 0.1.0 -- plan kanban: forward migration of ONE batch of users.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- Set-based: each entity is one INSERT ... SELECT over every user of the batch, parents before
-- children (board, prefs, lists, labels, cards, checklist, members, card_members, activity, comments, card_moves,
-- settings, shortcuts).
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
--   SELECT pgshred.begin_batch('kanban', ARRAY['user-1', 'user-2']);
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
SELECT "pgshred"."kanban_begin_forward"();

-- source.not_a_document: skip. A document that is not a JSON object (JSON null, a string, a
-- number, an array, SQL NULL) gives no rows; its user is recorded as migrated, and verify and
-- preview count such documents.

-- pgshred:entity board
-- board -> kanban.boards: one row per element of `$`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "kanban"."boards" (
        "id", "user_id", "legacy_id", "title", "version", "made_at", "extra"
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
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'board', '$', '#' || l0.ord)
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
                       x.elem -> 'title' AS v0, jsonb_typeof(x.elem -> 'title') AS t0,
                       x.elem -> 'version' AS v1, jsonb_typeof(x.elem -> 'version') AS t1,
                       x.elem -> 'createdAt' AS v2, jsonb_typeof(x.elem -> 'createdAt') AS t2
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'board', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'board', x.legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'board', x.legacy_id, 'title')::text
             END, -- title
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number') AND x.v1 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.v1 #>> '{}')::numeric BETWEEN -2147483648 AND 2147483647
                           THEN (x.v1 #>> '{}')::numeric::integer
                           ELSE "pgshred".cast_failed(x.v1, 'integer', x.user_id, 'board', x.legacy_id,
                               'version')::integer END
                 ELSE "pgshred".cast_failed(x.v1, 'integer', x.user_id, 'board', x.legacy_id, 'version')::integer
             END, -- version
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('number', 'string') AND x.v2 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]{1,14}[ \t\n\r]*$'
                 THEN to_timestamp(btrim(x.v2 #>> '{}', E' \t\n\r')::bigint / 1000) + (btrim(x.v2 #>> '{}',
                     E' \t\n\r')::bigint % 1000) * interval '1 millisecond'
                 ELSE "pgshred".cast_failed(x.v2, 'timestamptz', x.user_id, 'board', x.legacy_id,
                     'createdAt')::timestamptz
             END, -- made_at
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.elem -> 'activity' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'cards' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'lists' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'members' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'prefs' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'settings' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                THEN "pgshred".assemble_keys(x.elem - ARRAY['activity', 'cards', 'createdAt', 'lists', 'members',
                    'prefs', 'settings', 'title', 'version']::text[],
                         ARRAY['title', 'version', 'createdAt', 'activity', 'cards', 'lists', 'members', 'prefs',
                             'settings'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem -> 'activity' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'activity' END,
                               CASE WHEN x.elem -> 'cards' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'cards' END,
                               CASE WHEN x.elem -> 'lists' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'lists' END,
                               CASE WHEN x.elem -> 'members' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'members' END,
                               CASE WHEN x.elem -> 'prefs' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'prefs' END,
                               CASE WHEN x.elem -> 'settings' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'settings' END]::jsonb[])
                ELSE x.elem - ARRAY['activity', 'cards', 'createdAt', 'lists', 'members', 'prefs', 'settings', 'title',
                    'version']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'board', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'board', 'boards',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity prefs
-- prefs -> kanban.board_prefs: one row per element of `prefs`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "kanban"."board_prefs" (
        "id", "user_id", "legacy_id", "background", "card_covers", "permission_level", "extra"
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
                       x.elem -> 'background' AS v0, jsonb_typeof(x.elem -> 'background') AS t0,
                       x.elem -> 'card.covers' AS v1, jsonb_typeof(x.elem -> 'card.covers') AS t1,
                       x.elem -> 'permissionLevel' AS v2, jsonb_typeof(x.elem -> 'permissionLevel') AS t2
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'prefs', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'prefs', x.legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'prefs', x.legacy_id, 'background')::text
             END, -- background
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 = 'boolean' THEN (x.v1 #>> '{}')::boolean
                 WHEN x.t1 IN ('string', 'number')
                  AND lower(btrim(x.v1 #>> '{}', E' \t\n\r')) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n',
                      'on', 'off', '1', '0')
                 THEN lower(btrim(x.v1 #>> '{}', E' \t\n\r'))::boolean
                 ELSE "pgshred".cast_failed(x.v1, 'boolean', x.user_id, 'prefs', x.legacy_id, '"card.covers"')::boolean
             END, -- card_covers
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'prefs', x.legacy_id, 'permissionLevel')::text
             END, -- permission_level
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                THEN "pgshred".assemble_keys(x.elem - ARRAY['background', 'card.covers', 'permissionLevel']::text[],
                         ARRAY['background', '["card.covers"]', 'permissionLevel'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['background', 'card.covers', 'permissionLevel']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'prefs', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'prefs', 'board_prefs',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity lists
-- lists -> kanban.lists: one row per element of `lists`, legacy id `id`
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "kanban"."lists" (
        "id", "user_id", "legacy_id", "position", "name", "closed", "wip_limit", "extra"
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
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'lists', 'lists', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                        AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'lists', 'id', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"lists"}', doc.user_id, 'lists',
             'lists', NULL))
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
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'name' AS v0, jsonb_typeof(x.elem -> 'name') AS t0,
                       x.elem -> 'closed' AS v1, jsonb_typeof(x.elem -> 'closed') AS t1,
                       x.elem -> 'wip.limit' AS v2, jsonb_typeof(x.elem -> 'wip.limit') AS t2
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'lists', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'lists', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           COALESCE(CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'lists', x.legacy_id, 'name')::text
             END,
                    "pgshred".missing_required(x.user_id, 'lists', x.legacy_id, 'name')::text), -- name
           COALESCE(CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 = 'boolean' THEN (x.v1 #>> '{}')::boolean
                 WHEN x.t1 IN ('string', 'number')
                  AND lower(btrim(x.v1 #>> '{}', E' \t\n\r')) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n',
                      'on', 'off', '1', '0')
                 THEN lower(btrim(x.v1 #>> '{}', E' \t\n\r'))::boolean
                 ELSE "pgshred".cast_failed(x.v1, 'boolean', x.user_id, 'lists', x.legacy_id, 'closed')::boolean
             END,
                    'false'::boolean), -- closed
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number') AND x.v2 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.v2 #>> '{}')::numeric BETWEEN -2147483648 AND 2147483647
                           THEN (x.v2 #>> '{}')::numeric::integer
                           ELSE "pgshred".cast_failed(x.v2, 'integer', x.user_id, 'lists', x.legacy_id,
                               '"wip.limit"')::integer END
                 ELSE "pgshred".cast_failed(x.v2, 'integer', x.user_id, 'lists', x.legacy_id, '"wip.limit"')::integer
             END, -- wip_limit
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.elem -> 'labels' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                THEN "pgshred".assemble_keys(x.elem - ARRAY['closed', 'id', 'labels', 'name', 'wip.limit']::text[],
                         ARRAY['id', 'name', 'closed', '["wip.limit"]', 'labels'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem -> 'labels' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'labels' END]::jsonb[])
                ELSE x.elem - ARRAY['closed', 'id', 'labels', 'name', 'wip.limit']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'lists', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'lists', 'lists',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity labels
-- labels -> kanban.labels: one row per element of `lists[*].labels`, legacy id ``
--   parent lists via the enclosing element -> list_id; parent missing: error
--   duplicate legacy id within a parent: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "kanban"."labels" (
        "id", "user_id", "legacy_id", "position", "list_id", "name", "color", "extra"
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
               CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> ''
                   THEN l0.elem #>> '{"id"}' END AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l1.elem) <> 'object'
                    THEN "pgshred".not_an_object(l1.elem, doc.user_id, 'labels', 'lists[*].labels',
                        '#' || l0.ord || '.' || l1.ord)
                    ELSE l1.key
                END AS legacy_id,
               -- Legacy ids are unique per parent: the key of a row is its parent's legacy id (its
               -- length first, so no two pairs read alike) and its own.
               pg_catalog.length(CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                   AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END)::text || ':' || CASE
                   WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> ''
                   THEN l0.elem #>> '{"id"}' END || ':' || l1.key AS id_key
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"lists"}', doc.user_id, 'labels',
             'lists', NULL))
               WITH ORDINALITY AS l0(elem, ord)
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(l0.elem #> '{"labels"}', doc.user_id, 'labels',
             'lists[*].labels', 'lists ' || coalesce(CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
             AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END, '?')))
               WITH ORDINALITY AS l1(key, elem, ord)
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
                       x.elem -> 'name' AS v0, jsonb_typeof(x.elem -> 'name') AS t0,
                       x.elem -> 'color' AS v1, jsonb_typeof(x.elem -> 'color') AS t1
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'labels', x.user_id, x.id_key),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'labels', x.legacy_id) END,
           x.ord1, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'labels', x.legacy_id, 'lists', 'lists[*].labels',
                    x.parent_legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'labels', x.legacy_id, 'name')::text
             END, -- name
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'labels', x.legacy_id, 'color')::text
             END, -- color
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                THEN "pgshred".assemble_keys(x.elem - ARRAY['color', 'name']::text[],
                         ARRAY['name', 'color'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['color', 'name']::text[] END, '{}'::jsonb)
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "kanban"."lists" AS p
                          WHERE p."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'lists', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'labels', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'labels', 'labels',
       -- A legacy id may repeat under several parents: the id breaks the tie, so both arrays
       -- list the rows in one order.
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id", ins."id"), array_agg(ins."id" ORDER BY ins."legacy_id",
           ins."id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity cards
-- cards -> kanban.cards: one row per element of `cards`, legacy id ``
--   parent lists via `listId` -> list_id; parent missing: null
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "kanban"."cards" (
        "id", "user_id", "legacy_id", "position", "list_id", "title", "body", "due", "start_text", "start_on",
            "opened_at", "label_ids", "votes", "extra"
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
               doc.doc #>> '{"settings","locale"}' AS dv3, -- decides how column 3 is read
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem #> '{"listId"}') IN ('string', 'number')
                     AND l0.elem #>> '{"listId"}' <> ''
                    THEN l0.elem #>> '{"listId"}' END AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'cards', 'cards', '#' || l0.ord)
                    ELSE l0.key
                END AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"cards"}', doc.user_id, 'cards', 'cards', NULL))
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
                       x.elem -> 'desc' AS v1, jsonb_typeof(x.elem -> 'desc') AS t1,
                       x.elem -> 'due' AS v2, jsonb_typeof(x.elem -> 'due') AS t2,
                       x.elem -> 'start' AS v3, jsonb_typeof(x.elem -> 'start') AS t3,
                       x.elem -> 'created' AS v4, jsonb_typeof(x.elem -> 'created') AS t4,
                       x.elem -> 'labelIds' AS v5, jsonb_typeof(x.elem -> 'labelIds') AS t5,
                       x.elem #> '{"badges","votes"}' AS v6, jsonb_typeof(x.elem #> '{"badges","votes"}') AS t6
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'cards', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'cards', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           p.id,
           COALESCE(CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'cards', x.legacy_id, 'title')::text
             END,
                    "pgshred".missing_required(x.user_id, 'cards', x.legacy_id, 'title')::text), -- title
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'cards', x.legacy_id, 'desc')::text
             END, -- body
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 = 'string'
                  AND "pgshred".is_timestamp(x.v2 #>> '{}')
                 THEN (x.v2 #>> '{}')::timestamptz
                 WHEN x.t2 = 'string'
                  AND "pgshred".is_timestamp_shaped(x.v2 #>> '{}')
                 THEN "pgshred".to_timestamptz(x.v2, x.user_id, 'cards', x.legacy_id, 'due')
                 ELSE "pgshred".cast_failed(x.v2, 'timestamptz', x.user_id, 'cards', x.legacy_id, 'due')::timestamptz
             END, -- due
           CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 IN ('string', 'number', 'boolean') THEN x.v3 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v3, 'text', x.user_id, 'cards', x.legacy_id, 'start')::text
             END, -- start_text
           CASE x.dv3
                WHEN 'en-US' THEN COALESCE(CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 = 'string' AND x.v3 #>> '{}' ~ '^[ \t\n\r]*([0-9]{2})\/([0-9]{2})\/([0-9]{4})[ \t\n\r]*$'
                 THEN CASE WHEN "pgshred".is_date(regexp_replace(x.v3 #>> '{}',
                     '^[ \t\n\r]*([0-9]{2})\/([0-9]{2})\/([0-9]{4})[ \t\n\r]*$', '\3-\1-\2'), true)
                           THEN regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{2})\/([0-9]{2})\/([0-9]{4})[ \t\n\r]*$', '\3-\1-\2')::date
                           WHEN regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{2})\/([0-9]{2})\/([0-9]{4})[ \t\n\r]*$',
                               '\3-\1-\2') ~ '^[0-9]{4}-02-29$'
                           THEN "pgshred".try_date(regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{2})\/([0-9]{2})\/([0-9]{4})[ \t\n\r]*$', '\3-\1-\2'))
                           ELSE NULL::date
                      END
                 ELSE NULL::date
             END,
                    CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 = 'string' AND x.v3 #>> '{}' ~ '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$'
                 THEN CASE WHEN "pgshred".is_date(regexp_replace(x.v3 #>> '{}',
                     '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3'), true)
                           THEN regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3')::date
                           WHEN regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$',
                               '\1-\2-\3') ~ '^[0-9]{4}-02-29$'
                           THEN "pgshred".try_date(regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3'))
                           ELSE NULL::date
                      END
                 ELSE NULL::date
             END)
                ELSE COALESCE(CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 = 'string' AND x.v3 #>> '{}' ~ '^[ \t\n\r]*([0-9]{2})\/([0-9]{2})\/([0-9]{4})[ \t\n\r]*$'
                 THEN CASE WHEN "pgshred".is_date(regexp_replace(x.v3 #>> '{}',
                     '^[ \t\n\r]*([0-9]{2})\/([0-9]{2})\/([0-9]{4})[ \t\n\r]*$', '\3-\2-\1'), true)
                           THEN regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{2})\/([0-9]{2})\/([0-9]{4})[ \t\n\r]*$', '\3-\2-\1')::date
                           WHEN regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{2})\/([0-9]{2})\/([0-9]{4})[ \t\n\r]*$',
                               '\3-\2-\1') ~ '^[0-9]{4}-02-29$'
                           THEN "pgshred".try_date(regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{2})\/([0-9]{2})\/([0-9]{4})[ \t\n\r]*$', '\3-\2-\1'))
                           ELSE NULL::date
                      END
                 ELSE NULL::date
             END,
                    CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 = 'string' AND x.v3 #>> '{}' ~ '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$'
                 THEN CASE WHEN "pgshred".is_date(regexp_replace(x.v3 #>> '{}',
                     '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3'), true)
                           THEN regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3')::date
                           WHEN regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$',
                               '\1-\2-\3') ~ '^[0-9]{4}-02-29$'
                           THEN "pgshred".try_date(regexp_replace(x.v3 #>> '{}',
                               '^[ \t\n\r]*([0-9]{4})\-([0-9]{2})\-([0-9]{2})[ \t\n\r]*$', '\1-\2-\3'))
                           ELSE NULL::date
                      END
                 ELSE NULL::date
             END)
           END, -- start_on: what start_text names, if it names a date
           CASE WHEN x.t4 IS NULL OR x.t4 = 'null' THEN NULL
                 WHEN x.t4 IN ('number', 'string') AND x.v4 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]{1,14}[ \t\n\r]*$'
                 THEN to_timestamp(btrim(x.v4 #>> '{}', E' \t\n\r')::bigint / 1000) + (btrim(x.v4 #>> '{}',
                     E' \t\n\r')::bigint % 1000) * interval '1 millisecond'
                 ELSE "pgshred".cast_failed(x.v4, 'timestamptz', x.user_id, 'cards', x.legacy_id,
                     'created')::timestamptz
             END, -- opened_at
           CASE WHEN x.t5 IS NULL OR x.t5 = 'null' THEN NULL
                 WHEN x.t5 = 'array'
                  -- strict: in lax mode the filter would look inside a nested array and let it through
                  AND NOT jsonb_path_exists(x.v5, 'strict $[*] ? (@.type() == "object" || @.type() == "array")')
                 THEN ARRAY(SELECT a.item #>> '{}' FROM jsonb_array_elements(x.v5) WITH ORDINALITY AS a(item,
                     n) ORDER BY a.n)
                 ELSE "pgshred".cast_failed(x.v5, 'text[]', x.user_id, 'cards', x.legacy_id, 'labelIds')::text[]
             END, -- label_ids
           CASE WHEN x.t6 IS NULL OR x.t6 = 'null' THEN NULL
                 WHEN x.t6 IN ('string', 'number') AND x.v6 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.v6 #>> '{}')::numeric BETWEEN -2147483648 AND 2147483647
                           THEN (x.v6 #>> '{}')::numeric::integer
                           ELSE "pgshred".cast_failed(x.v6, 'integer', x.user_id, 'cards', x.legacy_id,
                               'badges.votes')::integer END
                 ELSE "pgshred".cast_failed(x.v6, 'integer', x.user_id, 'cards', x.legacy_id, 'badges.votes')::integer
             END, -- votes
           -- A reference to a parent that does not exist is kept in extra, not lost.
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"listId"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                  OR x.t4 = 'null'
                  OR x.t5 = 'null'
                  OR x.t6 = 'null'
                  OR x.elem #> '{"badges"}' = '{}'::jsonb
                  OR x.elem -> 'checklist' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                  OR x.elem -> 'idMembers' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                THEN "pgshred".assemble_keys("pgshred".prune(x.elem - ARRAY['checklist', 'created', 'desc', 'due',
                    'idMembers', 'labelIds', 'listId', 'start',
                    'title']::text[] #- '{"badges","comments"}' #- '{"badges","votes"}', '{"badges"}'),
                         ARRAY['listId', 'title', 'desc', 'due', 'start', 'created', 'labelIds', 'badges.votes',
                             'badges', 'checklist', 'idMembers'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"listId"}') = 'number'
                             THEN x.elem #> '{"listId"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t4 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t5 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t6 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem #> '{"badges"}' = '{}'::jsonb THEN '{}'::jsonb END,
                               CASE WHEN x.elem -> 'checklist' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'checklist' END,
                               CASE WHEN x.elem -> 'idMembers' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'idMembers' END]::jsonb[])
                ELSE "pgshred".prune(x.elem - ARRAY['checklist', 'created', 'desc', 'due', 'idMembers', 'labelIds',
                    'listId', 'start', 'title']::text[] #- '{"badges","comments"}' #- '{"badges","votes"}',
                    '{"badges"}') END
                  || CASE WHEN p."id" IS NULL AND x.elem #> '{"listId"}' IS NOT NULL
                          THEN "pgshred".assemble_keys('{}'::jsonb, ARRAY['listId'], ARRAY[x.elem #> '{"listId"}'])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "kanban"."lists" AS p
                          WHERE p."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'lists', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'cards', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'cards', 'cards',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity checklist
-- checklist -> kanban.checklist_items: one row per element of `cards[*].checklist`, legacy id `id`
--   parent cards via the enclosing element -> card_id; parent missing: error
--   duplicate legacy id within a parent: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "kanban"."checklist_items" (
        "id", "user_id", "legacy_id", "position", "card_id", "text", "done", "extra"
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
                    THEN "pgshred".not_an_object(l1.elem, doc.user_id, 'checklist', 'cards[*].checklist',
                        '#' || l0.ord || '.' || l1.ord)
                    ELSE CASE WHEN jsonb_typeof(l1.elem #> '{"id"}') IN ('string', 'number')
                        AND l1.elem #>> '{"id"}' <> '' THEN l1.elem #>> '{"id"}' ELSE "pgshred".missing_id(l1.elem,
                        doc.user_id, 'checklist', 'id', '#' || l0.ord || '.' || l1.ord) END
                END AS legacy_id,
               -- Legacy ids are unique per parent: the key of a row is its parent's legacy id (its
               -- length first, so no two pairs read alike) and its own.
               pg_catalog.length(l0.key)::text || ':' || l0.key || ':' || CASE
                   WHEN jsonb_typeof(l1.elem #> '{"id"}') IN ('string', 'number') AND l1.elem #>> '{"id"}' <> ''
                   THEN l1.elem #>> '{"id"}' ELSE "pgshred".missing_id(l1.elem, doc.user_id, 'checklist', 'id',
                   '#' || l0.ord || '.' || l1.ord) END AS id_key
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"cards"}', doc.user_id, 'checklist', 'cards',
             NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(l0.elem #> '{"checklist"}', doc.user_id,
             'checklist', 'cards[*].checklist', 'cards ' || coalesce(l0.key, '?')))
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
                       x.elem -> 'text' AS v0, jsonb_typeof(x.elem -> 'text') AS t0,
                       x.elem -> 'done' AS v1, jsonb_typeof(x.elem -> 'done') AS t1
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'checklist', x.user_id, x.id_key),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'checklist', x.legacy_id) END,
           x.ord1, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'checklist', x.legacy_id, 'cards', 'cards[*].checklist',
                    x.parent_legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'checklist', x.legacy_id, 'text')::text
             END, -- text
           COALESCE(CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 = 'boolean' THEN (x.v1 #>> '{}')::boolean
                 WHEN x.t1 IN ('string', 'number')
                  AND lower(btrim(x.v1 #>> '{}', E' \t\n\r')) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n',
                      'on', 'off', '1', '0')
                 THEN lower(btrim(x.v1 #>> '{}', E' \t\n\r'))::boolean
                 ELSE "pgshred".cast_failed(x.v1, 'boolean', x.user_id, 'checklist', x.legacy_id, 'done')::boolean
             END,
                    'false'::boolean), -- done
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'string'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                THEN "pgshred".assemble_keys(x.elem - ARRAY['done', 'id', 'text']::text[],
                         ARRAY['id', 'text', 'done'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'string' THEN x.elem #> '{"id"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['done', 'id', 'text']::text[] END, '{}'::jsonb)
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "kanban"."cards" AS p
                          WHERE p."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'cards', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'checklist', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'checklist', 'checklist_items',
       -- A legacy id may repeat under several parents: the id breaks the tie, so both arrays
       -- list the rows in one order.
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id", ins."id"), array_agg(ins."id" ORDER BY ins."legacy_id",
           ins."id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity members
-- members -> kanban.members: one row per element of `members`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "kanban"."members" (
        "id", "user_id", "legacy_id", "position", "full_name", "initials", "avatar", "extra"
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
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'members', 'members', '#' || l0.ord)
                    ELSE l0.key
                END AS legacy_id
          FROM doc
         -- An object keyed by id: each member an element, its key the legacy id.
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"members"}', doc.user_id, 'members', 'members',
             NULL))
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
                       x.elem -> 'fullName' AS v0, jsonb_typeof(x.elem -> 'fullName') AS t0,
                       x.elem -> 'initials' AS v1, jsonb_typeof(x.elem -> 'initials') AS t1,
                       x.elem -> 'avatar' AS v2, jsonb_typeof(x.elem -> 'avatar') AS t2
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'members', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'members', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'members', x.legacy_id, 'fullName')::text
             END, -- full_name
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'members', x.legacy_id, 'initials')::text
             END, -- initials
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'members', x.legacy_id, 'avatar')::text
             END, -- avatar
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                THEN "pgshred".assemble_keys(x.elem - ARRAY['avatar', 'fullName', 'initials']::text[],
                         ARRAY['fullName', 'initials', 'avatar'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['avatar', 'fullName', 'initials']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'members', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'members', 'members',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity card_members
-- card_members -> kanban.card_members: one row per element of `cards[*].idMembers`, legacy id ``
--   parent cards via the enclosing element -> card_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "kanban"."card_members" (
        "id", "user_id", "legacy_id", "position", "card_id", "member_id", "member_key"
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
         CROSS JOIN LATERAL jsonb_each("pgshred".object_at(doc.doc #> '{"cards"}', doc.user_id, 'card_members', 'cards',
             NULL))
               WITH ORDINALITY AS l0(key, elem, ord)
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(l0.elem #> '{"idMembers"}', doc.user_id,
             'card_members', 'cards[*].idMembers', 'cards ' || coalesce(l0.key, '?')))
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
               (SELECT r."id" FROM "kanban"."members" AS r
                 WHERE r."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'members', x.user_id,
                     q0.ref0) LIMIT 1) AS rid0
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem AS v0, jsonb_typeof(x.elem) AS t0
                       OFFSET 0) AS c
         -- member_id: the members row `` names.
         CROSS JOIN LATERAL (SELECT x.elem #> '{}' AS raw0,
                                    CASE WHEN jsonb_typeof(x.elem #> '{}') IN ('string', 'number')
                                        AND x.elem #>> '{}' <> ''
                                         THEN x.elem #>> '{}' END AS ref0
                              OFFSET 0) AS q0
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'card_members', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'card_members', x.legacy_id) END,
           x.ord1, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'card_members', x.legacy_id, 'cards', 'cards[*].idMembers',
                    x.parent_legacy_id) END,
           x.rid0, -- member_id
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'card_members', x.legacy_id, '')::text
             END -- member_key
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "kanban"."cards" AS p
                          WHERE p."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'cards', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'card_members', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'card_members', 'card_members',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity activity
-- activity -> kanban.activity: one row per element of `activity`, legacy id `id`
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "kanban"."activity" (
        "id", "user_id", "legacy_id", "position", "card_id", "member_id", "type", "at", "data", "extra"
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
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'activity', 'activity', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                        AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'activity', 'id', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"activity"}', doc.user_id, 'activity',
             'activity', NULL))
               WITH ORDINALITY AS l0(elem, ord)
         -- One array of many kinds: activity takes no named kind and every kind no other entity takes.
         WHERE CASE                 WHEN CASE WHEN jsonb_typeof(l0.elem #> '{"type"}') IN ('string', 'number',
             'boolean') THEN l0.elem #>> '{"type"}' END IN ('commentCard', 'moveCard') THEN false
                    ELSE true END
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
               (SELECT r."id" FROM "kanban"."cards" AS r
                 WHERE r."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'cards', x.user_id,
                     q0.ref0) LIMIT 1) AS rid0, q1.*,
               (SELECT r."id" FROM "kanban"."members" AS r
                 WHERE r."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'members', x.user_id,
                     q1.ref1) LIMIT 1) AS rid1
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'type' AS v0, jsonb_typeof(x.elem -> 'type') AS t0,
                       x.elem -> 'at' AS v1, jsonb_typeof(x.elem -> 'at') AS t1,
                       x.elem -> 'data' AS v2, jsonb_typeof(x.elem -> 'data') AS t2
                       OFFSET 0) AS c
         -- card_id: the cards row `cardId` names.
         CROSS JOIN LATERAL (SELECT x.elem #> '{"cardId"}' AS raw0,
                                    CASE WHEN jsonb_typeof(x.elem #> '{"cardId"}') IN ('string', 'number')
                                        AND x.elem #>> '{"cardId"}' <> ''
                                         THEN x.elem #>> '{"cardId"}' END AS ref0
                              OFFSET 0) AS q0
         -- member_id: the members row `memberId` names.
         CROSS JOIN LATERAL (SELECT x.elem #> '{"memberId"}' AS raw1,
                                    CASE WHEN jsonb_typeof(x.elem #> '{"memberId"}') IN ('string', 'number')
                                        AND x.elem #>> '{"memberId"}' <> ''
                                         THEN x.elem #>> '{"memberId"}' END AS ref1
                              OFFSET 0) AS q1
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'activity', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'activity', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           x.rid0, -- card_id
           x.rid1, -- member_id
           COALESCE(CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'activity', x.legacy_id, 'type')::text
             END,
                    "pgshred".missing_required(x.user_id, 'activity', x.legacy_id, 'type')::text), -- type
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('number', 'string') AND x.v1 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]{1,14}[ \t\n\r]*$'
                 THEN to_timestamp(btrim(x.v1 #>> '{}', E' \t\n\r')::bigint / 1000) + (btrim(x.v1 #>> '{}',
                     E' \t\n\r')::bigint % 1000) * interval '1 millisecond'
                 ELSE "pgshred".cast_failed(x.v1, 'timestamptz', x.user_id, 'activity', x.legacy_id, 'at')::timestamptz
             END, -- at
           NULLIF(x.v2, 'null'::jsonb), -- data
           -- A reference to a row that does not exist (or a null one) is kept in extra, not lost.
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"cardId"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"memberId"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                THEN "pgshred".assemble_keys(x.elem - ARRAY['at', 'cardId', 'data', 'id', 'memberId', 'type']::text[],
                         ARRAY['id', 'cardId', 'memberId', 'type', 'at', 'data'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"cardId"}') = 'number'
                                   THEN x.elem #> '{"cardId"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"memberId"}') = 'number'
                                   THEN x.elem #> '{"memberId"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['at', 'cardId', 'data', 'id', 'memberId', 'type']::text[] END
                  || CASE WHEN x.rid0 IS NULL AND x.raw0 IS NOT NULL
                          THEN "pgshred".assemble_keys('{}'::jsonb, ARRAY['cardId'], ARRAY[x.raw0])
                          ELSE '{}'::jsonb END
                  || CASE WHEN x.rid1 IS NULL AND x.raw1 IS NOT NULL
                          THEN "pgshred".assemble_keys('{}'::jsonb, ARRAY['memberId'], ARRAY[x.raw1])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'activity', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'activity', 'activity',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity comments
-- comments -> kanban.card_comments: one row per element of `activity`, legacy id `id`
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "kanban"."card_comments" (
        "id", "user_id", "legacy_id", "position", "card_id", "author_id", "type", "at", "body", "extra"
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
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'comments', 'activity', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                        AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'comments', 'id', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"activity"}', doc.user_id, 'comments',
             'activity', NULL))
               WITH ORDINALITY AS l0(elem, ord)
         -- One array of many kinds: comments takes `commentCard`.
         WHERE CASE WHEN CASE WHEN jsonb_typeof(l0.elem #> '{"type"}') IN ('string', 'number', 'boolean')
             THEN l0.elem #>> '{"type"}' END IN ('commentCard') THEN true
                    WHEN CASE WHEN jsonb_typeof(l0.elem #> '{"type"}') IN ('string', 'number', 'boolean')
                        THEN l0.elem #>> '{"type"}' END IN ('moveCard') THEN false
                    ELSE false END
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
               (SELECT r."id" FROM "kanban"."cards" AS r
                 WHERE r."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'cards', x.user_id,
                     q0.ref0) LIMIT 1) AS rid0, q1.*,
               (SELECT r."id" FROM "kanban"."members" AS r
                 WHERE r."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'members', x.user_id,
                     q1.ref1) LIMIT 1) AS rid1
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'type' AS v0, jsonb_typeof(x.elem -> 'type') AS t0,
                       x.elem -> 'at' AS v1, jsonb_typeof(x.elem -> 'at') AS t1,
                       x.elem #> '{"data","text"}' AS v2, jsonb_typeof(x.elem #> '{"data","text"}') AS t2
                       OFFSET 0) AS c
         -- card_id: the cards row `cardId` names.
         CROSS JOIN LATERAL (SELECT x.elem #> '{"cardId"}' AS raw0,
                                    CASE WHEN jsonb_typeof(x.elem #> '{"cardId"}') IN ('string', 'number')
                                        AND x.elem #>> '{"cardId"}' <> ''
                                         THEN x.elem #>> '{"cardId"}' END AS ref0
                              OFFSET 0) AS q0
         -- author_id: the members row `memberId` names.
         CROSS JOIN LATERAL (SELECT x.elem #> '{"memberId"}' AS raw1,
                                    CASE WHEN jsonb_typeof(x.elem #> '{"memberId"}') IN ('string', 'number')
                                        AND x.elem #>> '{"memberId"}' <> ''
                                         THEN x.elem #>> '{"memberId"}' END AS ref1
                              OFFSET 0) AS q1
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'comments', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'comments', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           x.rid0, -- card_id
           x.rid1, -- author_id
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'comments', x.legacy_id, 'type')::text
             END, -- type
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('number', 'string') AND x.v1 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]{1,14}[ \t\n\r]*$'
                 THEN to_timestamp(btrim(x.v1 #>> '{}', E' \t\n\r')::bigint / 1000) + (btrim(x.v1 #>> '{}',
                     E' \t\n\r')::bigint % 1000) * interval '1 millisecond'
                 ELSE "pgshred".cast_failed(x.v1, 'timestamptz', x.user_id, 'comments', x.legacy_id, 'at')::timestamptz
             END, -- at
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'comments', x.legacy_id, 'data.text')::text
             END, -- body
           -- A reference to a row that does not exist (or a null one) is kept in extra, not lost.
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"cardId"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"memberId"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.elem #> '{"data"}' = '{}'::jsonb
                THEN "pgshred".assemble_keys("pgshred".prune(x.elem - ARRAY['at', 'cardId', 'id', 'memberId',
                    'type']::text[] #- '{"data","text"}', '{"data"}'),
                         ARRAY['id', 'cardId', 'memberId', 'type', 'at', 'data.text', 'data'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"cardId"}') = 'number'
                                   THEN x.elem #> '{"cardId"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"memberId"}') = 'number'
                                   THEN x.elem #> '{"memberId"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem #> '{"data"}' = '{}'::jsonb THEN '{}'::jsonb END]::jsonb[])
                ELSE "pgshred".prune(x.elem - ARRAY['at', 'cardId', 'id', 'memberId',
                    'type']::text[] #- '{"data","text"}', '{"data"}') END
                  || CASE WHEN x.rid0 IS NULL AND x.raw0 IS NOT NULL
                          THEN "pgshred".assemble_keys('{}'::jsonb, ARRAY['cardId'], ARRAY[x.raw0])
                          ELSE '{}'::jsonb END
                  || CASE WHEN x.rid1 IS NULL AND x.raw1 IS NOT NULL
                          THEN "pgshred".assemble_keys('{}'::jsonb, ARRAY['memberId'], ARRAY[x.raw1])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'comments', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'comments', 'card_comments',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity card_moves
-- card_moves -> kanban.card_moves: one row per element of `activity`, legacy id `id`
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "kanban"."card_moves" (
        "id", "user_id", "legacy_id", "position", "card_id", "member_id", "type", "at", "from_list", "to_list", "extra"
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
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'card_moves', 'activity', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                        AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'card_moves', 'id', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"activity"}', doc.user_id,
             'card_moves', 'activity', NULL))
               WITH ORDINALITY AS l0(elem, ord)
         -- One array of many kinds: card_moves takes `moveCard`.
         WHERE CASE WHEN CASE WHEN jsonb_typeof(l0.elem #> '{"type"}') IN ('string', 'number', 'boolean')
             THEN l0.elem #>> '{"type"}' END IN ('moveCard') THEN true
                    WHEN CASE WHEN jsonb_typeof(l0.elem #> '{"type"}') IN ('string', 'number', 'boolean')
                        THEN l0.elem #>> '{"type"}' END IN ('commentCard') THEN false
                    ELSE false END
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
               (SELECT r."id" FROM "kanban"."cards" AS r
                 WHERE r."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'cards', x.user_id,
                     q0.ref0) LIMIT 1) AS rid0, q1.*,
               (SELECT r."id" FROM "kanban"."members" AS r
                 WHERE r."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'members', x.user_id,
                     q1.ref1) LIMIT 1) AS rid1
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'type' AS v0, jsonb_typeof(x.elem -> 'type') AS t0,
                       x.elem -> 'at' AS v1, jsonb_typeof(x.elem -> 'at') AS t1,
                       x.elem #> '{"data","from"}' AS v2, jsonb_typeof(x.elem #> '{"data","from"}') AS t2,
                       x.elem #> '{"data","to"}' AS v3, jsonb_typeof(x.elem #> '{"data","to"}') AS t3
                       OFFSET 0) AS c
         -- card_id: the cards row `cardId` names.
         CROSS JOIN LATERAL (SELECT x.elem #> '{"cardId"}' AS raw0,
                                    CASE WHEN jsonb_typeof(x.elem #> '{"cardId"}') IN ('string', 'number')
                                        AND x.elem #>> '{"cardId"}' <> ''
                                         THEN x.elem #>> '{"cardId"}' END AS ref0
                              OFFSET 0) AS q0
         -- member_id: the members row `memberId` names.
         CROSS JOIN LATERAL (SELECT x.elem #> '{"memberId"}' AS raw1,
                                    CASE WHEN jsonb_typeof(x.elem #> '{"memberId"}') IN ('string', 'number')
                                        AND x.elem #>> '{"memberId"}' <> ''
                                         THEN x.elem #>> '{"memberId"}' END AS ref1
                              OFFSET 0) AS q1
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'card_moves', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'card_moves', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           x.rid0, -- card_id
           x.rid1, -- member_id
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'card_moves', x.legacy_id, 'type')::text
             END, -- type
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('number', 'string') AND x.v1 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]{1,14}[ \t\n\r]*$'
                 THEN to_timestamp(btrim(x.v1 #>> '{}', E' \t\n\r')::bigint / 1000) + (btrim(x.v1 #>> '{}',
                     E' \t\n\r')::bigint % 1000) * interval '1 millisecond'
                 ELSE "pgshred".cast_failed(x.v1, 'timestamptz', x.user_id, 'card_moves', x.legacy_id,
                     'at')::timestamptz
             END, -- at
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'card_moves', x.legacy_id, 'data.from')::text
             END, -- from_list
           CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 IN ('string', 'number', 'boolean') THEN x.v3 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v3, 'text', x.user_id, 'card_moves', x.legacy_id, 'data.to')::text
             END, -- to_list
           -- A reference to a row that does not exist (or a null one) is kept in extra, not lost.
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"cardId"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"memberId"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                  OR x.elem #> '{"data"}' = '{}'::jsonb
                THEN "pgshred".assemble_keys("pgshred".prune(x.elem - ARRAY['at', 'cardId', 'id', 'memberId',
                    'type']::text[] #- '{"data","from"}' #- '{"data","to"}', '{"data"}'),
                         ARRAY['id', 'cardId', 'memberId', 'type', 'at', 'data.from', 'data.to', 'data'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"cardId"}') = 'number'
                                   THEN x.elem #> '{"cardId"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"memberId"}') = 'number'
                                   THEN x.elem #> '{"memberId"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem #> '{"data"}' = '{}'::jsonb THEN '{}'::jsonb END]::jsonb[])
                ELSE "pgshred".prune(x.elem - ARRAY['at', 'cardId', 'id', 'memberId',
                    'type']::text[] #- '{"data","from"}' #- '{"data","to"}', '{"data"}') END
                  || CASE WHEN x.rid0 IS NULL AND x.raw0 IS NOT NULL
                          THEN "pgshred".assemble_keys('{}'::jsonb, ARRAY['cardId'], ARRAY[x.raw0])
                          ELSE '{}'::jsonb END
                  || CASE WHEN x.rid1 IS NULL AND x.raw1 IS NOT NULL
                          THEN "pgshred".assemble_keys('{}'::jsonb, ARRAY['memberId'], ARRAY[x.raw1])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'card_moves', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'card_moves', 'card_moves',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity settings
-- settings -> kanban.board_settings: one row per element of `settings`, legacy id ``
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "kanban"."board_settings" (
        "id", "user_id", "legacy_id", "theme", "density", "locale", "extra"
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
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'settings', 'settings', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{}') IN ('string', 'number') AND l0.elem #>> '{}' <> ''
                        THEN l0.elem #>> '{}' ELSE '#' || l0.ord END
                END AS legacy_id
          FROM doc
         -- A single object: the one element of its parent (when it is an object).
         CROSS JOIN LATERAL (SELECT o.elem, 1::bigint AS ord
                               FROM (SELECT doc.doc #> '{"settings"}' AS elem) AS o
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
                       x.elem -> 'theme' AS v0, jsonb_typeof(x.elem -> 'theme') AS t0,
                       x.elem -> 'ui.density' AS v1, jsonb_typeof(x.elem -> 'ui.density') AS t1,
                       x.elem -> 'locale' AS v2, jsonb_typeof(x.elem -> 'locale') AS t2
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'settings', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'settings', x.legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'settings', x.legacy_id, 'theme')::text
             END, -- theme
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'settings', x.legacy_id, '"ui.density"')::text
             END, -- density
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'settings', x.legacy_id, 'locale')::text
             END, -- locale
           NULLIF(CASE WHEN x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.elem -> 'shortcuts' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                THEN "pgshred".assemble_keys(x.elem - ARRAY['locale', 'shortcuts', 'theme', 'ui.density']::text[],
                         ARRAY['theme', '["ui.density"]', 'locale', 'shortcuts'],
                         ARRAY[CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem -> 'shortcuts' IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb)
                                   THEN x.elem -> 'shortcuts' END]::jsonb[])
                ELSE x.elem - ARRAY['locale', 'shortcuts', 'theme', 'ui.density']::text[] END, '{}'::jsonb)
      FROM v AS x
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'settings', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'settings', 'board_settings',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity shortcuts
-- shortcuts -> kanban.shortcuts: one row per element of `settings[*].shortcuts`, legacy id ``
--   parent settings via the enclosing element -> settings_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: position
WITH ins AS (
    INSERT INTO "kanban"."shortcuts" (
        "id", "user_id", "legacy_id", "position", "settings_id", "keys"
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
               CASE WHEN jsonb_typeof(l0.elem #> '{}') IN ('string', 'number') AND l0.elem #>> '{}' <> ''
                   THEN l0.elem #>> '{}' ELSE '#' || l0.ord END AS parent_legacy_id,
               '#' || l0.ord || '.' || l1.ord AS legacy_id
          FROM doc
         -- A single object: the one element of its parent (when it is an object).
         CROSS JOIN LATERAL (SELECT o.elem, 1::bigint AS ord
                               FROM (SELECT doc.doc #> '{"settings"}' AS elem) AS o
                              WHERE jsonb_typeof(o.elem) <> 'null') AS l0
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(l0.elem #> '{"shortcuts"}', doc.user_id,
             'shortcuts', 'settings[*].shortcuts', 'settings ' || coalesce(CASE
             WHEN jsonb_typeof(l0.elem #> '{}') IN ('string', 'number') AND l0.elem #>> '{}' <> '' THEN l0.elem #>> '{}'
             ELSE '#' || l0.ord END, '?')))
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
    SELECT "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'shortcuts', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'shortcuts', x.legacy_id) END,
           x.ord1, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'shortcuts', x.legacy_id, 'settings', 'settings[*].shortcuts',
                    x.parent_legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'shortcuts', x.legacy_id, '')::text
             END -- keys
      FROM v AS x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "kanban"."board_settings" AS p
                          WHERE p."id" = "pgshred".row_id('6a4e1f0c-2b7d-4c1e-9f3a-8d5b6c7e9f01', 'settings', x.user_id,
                              x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'shortcuts', x.legacy_id) ELSE true END
        ON CONFLICT ("id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'shortcuts', 'shortcuts',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";
