-- pgshred 0.1.0 -- plan user_app_state_distributed: forward migration of ONE batch of users.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- Set-based: each entity is one INSERT ... SELECT over every user of the batch, parents before
-- children (orgs, personas, contents, accounts, leads, references, inbox_items).
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
--   SELECT pgshred.begin_batch('user_app_state_distributed', ARRAY['user-1', 'user-2']);
--   \i 03_forward.sql
--   \i 04_verify.sql      -- must return no rows
--   COMMIT;
-- `pgshred apply` does exactly this, batch by batch, with progress kept in pgshred.migration_batches.
-- On Citus, the workers read the batch's settings too, which begin_batch's set_config does not
-- send them; after it, as `pgshred apply` does, with the values it set:
--   SET LOCAL citus.propagate_set_commands = 'local';
--   SET LOCAL pgshred.batch_users = '{user-1,user-2}'; SET LOCAL pgshred.run_id = '...';
--   SET LOCAL pgshred.batch_id = '...';
-- and send the statements one at a time (psql's \i does). `pgshred apply` also writes the batch's
-- users, as '{user-1,user-2}'::text[], in place of each call of
--   pgshred.batch_users()
-- Citus then runs each INSERT on the shards holding those users, beside their documents when the
-- source table is distributed too; it prunes no shard by a function's value.
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
SELECT "pgshred"."user_app_state_distributed_begin_forward"();

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

-- pgshred:entity orgs
-- orgs -> app_distributed.orgs: one row per element of `orgs`, legacy id `id`
--   duplicate legacy id within a user: keep_first; missing legacy id: error
WITH ins AS (
    INSERT INTO "app_distributed"."orgs" (
        "id", "user_id", "legacy_id", "position", "name", "plan", "seats", "settings", "source_created_at", "extra"
    )
    WITH doc AS NOT MATERIALIZED (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS NOT MATERIALIZED (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'orgs', 'orgs', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                        AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'orgs', 'id', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"orgs"}', doc.user_id, 'orgs', 'orgs',
             NULL))
               WITH ORDINALITY AS l0(elem, ord)
    ), x AS NOT MATERIALIZED (
        SELECT DISTINCT ON (src.user_id, src.legacy_id) src.*
          FROM src
         ORDER BY src.user_id, src.legacy_id, src.ord0
    ), v AS NOT MATERIALIZED (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'name' AS v0, jsonb_typeof(x.elem -> 'name') AS t0,
                       x.elem -> 'plan' AS v1, jsonb_typeof(x.elem -> 'plan') AS t1,
                       x.elem -> 'seats' AS v2, jsonb_typeof(x.elem -> 'seats') AS t2,
                       x.elem -> 'settings' AS v3, jsonb_typeof(x.elem -> 'settings') AS t3,
                       x.elem -> 'createdAt' AS v4, jsonb_typeof(x.elem -> 'createdAt') AS t4
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'orgs', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'orgs', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           COALESCE(CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'orgs', x.legacy_id, 'name')::text
             END,
                    "pgshred".missing_required(x.user_id, 'orgs', x.legacy_id, 'name')::text), -- name
           COALESCE(CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'orgs', x.legacy_id, 'plan')::text
             END,
                    'free'::text), -- plan
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number') AND x.v2 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.v2 #>> '{}')::numeric BETWEEN -2147483648 AND 2147483647
                           THEN (x.v2 #>> '{}')::numeric::integer
                           ELSE "pgshred".cast_failed(x.v2, 'integer', x.user_id, 'orgs', x.legacy_id,
                               'seats')::integer END
                 ELSE "pgshred".cast_failed(x.v2, 'integer', x.user_id, 'orgs', x.legacy_id, 'seats')::integer
             END, -- seats
           NULLIF(x.v3, 'null'::jsonb), -- settings
           CASE WHEN x.t4 IS NULL OR x.t4 = 'null' THEN NULL
                 WHEN x.t4 = 'string'
                  AND "pgshred".is_timestamp(x.v4 #>> '{}')
                 THEN (x.v4 #>> '{}')::timestamptz
                 WHEN x.t4 = 'string'
                  AND "pgshred".is_timestamp_shaped(x.v4 #>> '{}')
                 THEN "pgshred".to_timestamptz(x.v4, x.user_id, 'orgs', x.legacy_id, 'createdAt')
                 ELSE "pgshred".cast_failed(x.v4, 'timestamptz', x.user_id, 'orgs', x.legacy_id,
                     'createdAt')::timestamptz
             END, -- source_created_at
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                  OR x.t4 = 'null'
                THEN "pgshred".assemble(x.elem - ARRAY['_localCache', 'createdAt', 'id', 'name', 'plan', 'seats',
                    'settings']::text[],
                         ARRAY['id', 'name', 'plan', 'seats', 'settings', 'createdAt'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t4 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['_localCache', 'createdAt', 'id', 'name', 'plan', 'seats', 'settings']::text[] END,
                    '{}'::jsonb)
      FROM v AS x
        ON CONFLICT ("user_id", "id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'orgs', 'orgs',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity personas
-- personas -> app_distributed.personas: one row per element of `personas`, legacy id `id`
--   parent orgs via `orgId` -> org_id; parent missing: null
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "app_distributed"."personas" (
        "id", "user_id", "legacy_id", "position", "org_id", "name", "tone", "bio", "avatar_url", "is_default",
            "source_created_at", "extra"
    )
    WITH doc AS NOT MATERIALIZED (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS NOT MATERIALIZED (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem #> '{"orgId"}') IN ('string', 'number')
                     AND l0.elem #>> '{"orgId"}' <> ''
                    THEN l0.elem #>> '{"orgId"}' END AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'personas', 'personas', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                        AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'personas', 'id', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"personas"}', doc.user_id, 'personas',
             'personas', NULL))
               WITH ORDINALITY AS l0(elem, ord)
    ), x AS NOT MATERIALIZED (
        -- Duplicate legacy ids are counted by a window over each user's elements: Citus runs it on
        -- the shards, where it would bring a join of the elements with their counts to the
        -- coordinator.
        SELECT src.*, NULLIF(count(*) OVER (PARTITION BY src.user_id, src.legacy_id), 1) AS copies
          FROM src
    ), v AS NOT MATERIALIZED (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'name' AS v0, jsonb_typeof(x.elem -> 'name') AS t0,
                       x.elem -> 'tone' AS v1, jsonb_typeof(x.elem -> 'tone') AS t1,
                       x.elem #> '{"profile","bio"}' AS v2, jsonb_typeof(x.elem #> '{"profile","bio"}') AS t2,
                       x.elem #> '{"profile","avatarUrl"}' AS v3,
                           jsonb_typeof(x.elem #> '{"profile","avatarUrl"}') AS t3,
                       x.elem -> 'isDefault' AS v4, jsonb_typeof(x.elem -> 'isDefault') AS t4,
                       x.elem -> 'createdAt' AS v5, jsonb_typeof(x.elem -> 'createdAt') AS t5
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'personas', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'personas', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           p.id,
           COALESCE(CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'personas', x.legacy_id, 'name')::text
             END,
                    "pgshred".missing_required(x.user_id, 'personas', x.legacy_id, 'name')::text), -- name
           COALESCE(CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'personas', x.legacy_id, 'tone')::text
             END,
                    'neutral'::text), -- tone
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'personas', x.legacy_id, 'profile.bio')::text
             END, -- bio
           CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 IN ('string', 'number', 'boolean') THEN x.v3 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v3, 'text', x.user_id, 'personas', x.legacy_id, 'profile.avatarUrl')::text
             END, -- avatar_url
           COALESCE(CASE WHEN x.t4 IS NULL OR x.t4 = 'null' THEN NULL
                 WHEN x.t4 = 'boolean' THEN (x.v4 #>> '{}')::boolean
                 WHEN x.t4 IN ('string', 'number')
                  AND lower(btrim(x.v4 #>> '{}', E' \t\n\r')) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n',
                      'on', 'off', '1', '0')
                 THEN lower(btrim(x.v4 #>> '{}', E' \t\n\r'))::boolean
                 ELSE "pgshred".cast_failed(x.v4, 'boolean', x.user_id, 'personas', x.legacy_id, 'isDefault')::boolean
             END,
                    'false'::boolean), -- is_default
           CASE WHEN x.t5 IS NULL OR x.t5 = 'null' THEN NULL
                 WHEN x.t5 = 'string'
                  AND "pgshred".is_timestamp(x.v5 #>> '{}')
                 THEN (x.v5 #>> '{}')::timestamptz
                 WHEN x.t5 = 'string'
                  AND "pgshred".is_timestamp_shaped(x.v5 #>> '{}')
                 THEN "pgshred".to_timestamptz(x.v5, x.user_id, 'personas', x.legacy_id, 'createdAt')
                 ELSE "pgshred".cast_failed(x.v5, 'timestamptz', x.user_id, 'personas', x.legacy_id,
                     'createdAt')::timestamptz
             END, -- source_created_at
           -- A reference to a parent that does not exist is kept in extra, not lost.
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"orgId"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                  OR x.t4 = 'null'
                  OR x.t5 = 'null'
                  OR x.elem #> '{"profile"}' = '{}'::jsonb
                THEN "pgshred".assemble("pgshred".prune(x.elem - ARRAY['createdAt', 'id', 'isDefault', 'name', 'orgId',
                    'tone']::text[] #- '{"profile","avatarUrl"}' #- '{"profile","bio"}', '{"profile"}'),
                         ARRAY['id', 'orgId', 'name', 'tone', 'profile.bio', 'profile.avatarUrl', 'isDefault',
                             'createdAt', 'profile'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"orgId"}') = 'number' THEN x.elem #> '{"orgId"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t4 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t5 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.elem #> '{"profile"}' = '{}'::jsonb THEN '{}'::jsonb END]::jsonb[])
                ELSE "pgshred".prune(x.elem - ARRAY['createdAt', 'id', 'isDefault', 'name', 'orgId',
                    'tone']::text[] #- '{"profile","avatarUrl"}' #- '{"profile","bio"}', '{"profile"}') END
                  || CASE WHEN p."id" IS NULL AND x.elem #> '{"orgId"}' IS NOT NULL
                          THEN "pgshred".assemble('{}'::jsonb, ARRAY['orgId'], ARRAY[x.elem #> '{"orgId"}'])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM v AS x
      -- The parent by its key (user_id, id): a join Citus runs on each shard beside its parents
      -- (it takes no LIMIT in a lateral subquery over a distributed table). The batch's users
      -- again, so that Citus looks for the parents only on the shards holding them.
      LEFT JOIN "app_distributed"."orgs" AS p
             ON p."user_id" = x.user_id AND p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'orgs',
                 x.user_id, x.parent_legacy_id)
            AND p."user_id" = ANY ("pgshred".batch_users())
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'personas', x.legacy_id) ELSE true END
        ON CONFLICT ("user_id", "id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'personas', 'personas',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity contents
-- contents -> app_distributed.contents: one row per element of `contents`, legacy id `id`
--   parent personas via `personaId` -> persona_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "app_distributed"."contents" (
        "id", "user_id", "legacy_id", "position", "persona_id", "title", "body", "status", "tags", "word_count",
            "published_at", "source_created_at", "extra"
    )
    WITH doc AS NOT MATERIALIZED (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS NOT MATERIALIZED (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem #> '{"personaId"}') IN ('string', 'number')
                     AND l0.elem #>> '{"personaId"}' <> ''
                    THEN l0.elem #>> '{"personaId"}' END AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'contents', 'contents', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                        AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'contents', 'id', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"contents"}', doc.user_id, 'contents',
             'contents', NULL))
               WITH ORDINALITY AS l0(elem, ord)
    ), x AS NOT MATERIALIZED (
        -- Duplicate legacy ids are counted by a window over each user's elements: Citus runs it on
        -- the shards, where it would bring a join of the elements with their counts to the
        -- coordinator.
        SELECT src.*, NULLIF(count(*) OVER (PARTITION BY src.user_id, src.legacy_id), 1) AS copies
          FROM src
    ), v AS NOT MATERIALIZED (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'title' AS v0, jsonb_typeof(x.elem -> 'title') AS t0,
                       x.elem -> 'body' AS v1, jsonb_typeof(x.elem -> 'body') AS t1,
                       x.elem -> 'status' AS v2, jsonb_typeof(x.elem -> 'status') AS t2,
                       x.elem -> 'tags' AS v3, jsonb_typeof(x.elem -> 'tags') AS t3,
                       x.elem -> 'wordCount' AS v4, jsonb_typeof(x.elem -> 'wordCount') AS t4,
                       x.elem -> 'publishedAt' AS v5, jsonb_typeof(x.elem -> 'publishedAt') AS t5,
                       x.elem -> 'createdAt' AS v6, jsonb_typeof(x.elem -> 'createdAt') AS t6
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'contents', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'contents', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'contents', x.legacy_id, 'personas', 'personaId',
                    x.parent_legacy_id) END,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'contents', x.legacy_id, 'title')::text
             END, -- title
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'contents', x.legacy_id, 'body')::text
             END, -- body
           COALESCE(CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'contents', x.legacy_id, 'status')::text
             END,
                    'draft'::text), -- status
           CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 = 'array'
                  -- strict: in lax mode the filter would look inside a nested array and let it through
                  AND NOT jsonb_path_exists(x.v3, 'strict $[*] ? (@.type() == "object" || @.type() == "array")')
                 THEN ARRAY(SELECT a.item #>> '{}' FROM jsonb_array_elements(x.v3) WITH ORDINALITY AS a(item,
                     n) ORDER BY a.n)
                 ELSE "pgshred".cast_failed(x.v3, 'text[]', x.user_id, 'contents', x.legacy_id, 'tags')::text[]
             END, -- tags
           CASE WHEN x.t4 IS NULL OR x.t4 = 'null' THEN NULL
                 WHEN x.t4 IN ('string', 'number') AND x.v4 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.v4 #>> '{}')::numeric BETWEEN -2147483648 AND 2147483647
                           THEN (x.v4 #>> '{}')::numeric::integer
                           ELSE "pgshred".cast_failed(x.v4, 'integer', x.user_id, 'contents', x.legacy_id,
                               'wordCount')::integer END
                 ELSE "pgshred".cast_failed(x.v4, 'integer', x.user_id, 'contents', x.legacy_id, 'wordCount')::integer
             END, -- word_count
           CASE WHEN x.t5 IS NULL OR x.t5 = 'null' THEN NULL
                 WHEN x.t5 = 'string'
                  AND "pgshred".is_timestamp(x.v5 #>> '{}')
                 THEN (x.v5 #>> '{}')::timestamptz
                 WHEN x.t5 = 'string'
                  AND "pgshred".is_timestamp_shaped(x.v5 #>> '{}')
                 THEN "pgshred".to_timestamptz(x.v5, x.user_id, 'contents', x.legacy_id, 'publishedAt')
                 ELSE "pgshred".cast_failed(x.v5, 'timestamptz', x.user_id, 'contents', x.legacy_id,
                     'publishedAt')::timestamptz
             END, -- published_at
           CASE WHEN x.t6 IS NULL OR x.t6 = 'null' THEN NULL
                 WHEN x.t6 = 'string'
                  AND "pgshred".is_timestamp(x.v6 #>> '{}')
                 THEN (x.v6 #>> '{}')::timestamptz
                 WHEN x.t6 = 'string'
                  AND "pgshred".is_timestamp_shaped(x.v6 #>> '{}')
                 THEN "pgshred".to_timestamptz(x.v6, x.user_id, 'contents', x.legacy_id, 'createdAt')
                 ELSE "pgshred".cast_failed(x.v6, 'timestamptz', x.user_id, 'contents', x.legacy_id,
                     'createdAt')::timestamptz
             END, -- source_created_at
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"personaId"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                  OR x.t4 = 'null'
                  OR x.t5 = 'null'
                  OR x.t6 = 'null'
                THEN "pgshred".assemble(x.elem - ARRAY['body', 'createdAt', 'id', 'personaId', 'publishedAt',
                    'renderedHtml', 'status', 'tags', 'title', 'wordCount']::text[],
                         ARRAY['id', 'personaId', 'title', 'body', 'status', 'tags', 'wordCount', 'publishedAt',
                             'createdAt'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"personaId"}') = 'number'
                                   THEN x.elem #> '{"personaId"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t4 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t5 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t6 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['body', 'createdAt', 'id', 'personaId', 'publishedAt', 'renderedHtml', 'status',
                    'tags', 'title', 'wordCount']::text[] END, '{}'::jsonb)
      FROM v AS x
      -- The parent by its key (user_id, id): a join Citus runs on each shard beside its parents
      -- (it takes no LIMIT in a lateral subquery over a distributed table). The batch's users
      -- again, so that Citus looks for the parents only on the shards holding them.
      LEFT JOIN "app_distributed"."personas" AS p
             ON p."user_id" = x.user_id AND p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01',
                 'personas', x.user_id, x.parent_legacy_id)
            AND p."user_id" = ANY ("pgshred".batch_users())
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'contents', x.legacy_id) ELSE true END
        ON CONFLICT ("user_id", "id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'contents', 'contents',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity accounts
-- accounts -> app_distributed.accounts: one row per element of `accounts`, legacy id `id`
--   parent personas via `personaId` -> persona_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "app_distributed"."accounts" (
        "id", "user_id", "legacy_id", "position", "persona_id", "platform", "handle", "followers", "connected",
            "connected_at", "extra"
    )
    WITH doc AS NOT MATERIALIZED (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS NOT MATERIALIZED (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem #> '{"personaId"}') IN ('string', 'number')
                     AND l0.elem #>> '{"personaId"}' <> ''
                    THEN l0.elem #>> '{"personaId"}' END AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'accounts', 'accounts', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                        AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'accounts', 'id', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"accounts"}', doc.user_id, 'accounts',
             'accounts', NULL))
               WITH ORDINALITY AS l0(elem, ord)
    ), x AS NOT MATERIALIZED (
        -- Duplicate legacy ids are counted by a window over each user's elements: Citus runs it on
        -- the shards, where it would bring a join of the elements with their counts to the
        -- coordinator.
        SELECT src.*, NULLIF(count(*) OVER (PARTITION BY src.user_id, src.legacy_id), 1) AS copies
          FROM src
    ), v AS NOT MATERIALIZED (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'platform' AS v0, jsonb_typeof(x.elem -> 'platform') AS t0,
                       x.elem -> 'handle' AS v1, jsonb_typeof(x.elem -> 'handle') AS t1,
                       x.elem -> 'followers' AS v2, jsonb_typeof(x.elem -> 'followers') AS t2,
                       x.elem -> 'connected' AS v3, jsonb_typeof(x.elem -> 'connected') AS t3,
                       x.elem -> 'connectedAt' AS v4, jsonb_typeof(x.elem -> 'connectedAt') AS t4
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'accounts', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'accounts', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'accounts', x.legacy_id, 'personas', 'personaId',
                    x.parent_legacy_id) END,
           COALESCE(CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'accounts', x.legacy_id, 'platform')::text
             END,
                    "pgshred".missing_required(x.user_id, 'accounts', x.legacy_id, 'platform')::text), -- platform
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'accounts', x.legacy_id, 'handle')::text
             END, -- handle
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number') AND x.v2 #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.v2 #>> '{}')::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
                           THEN (x.v2 #>> '{}')::numeric::bigint
                           ELSE "pgshred".cast_failed(x.v2, 'bigint', x.user_id, 'accounts', x.legacy_id,
                               'followers')::bigint END
                 ELSE "pgshred".cast_failed(x.v2, 'bigint', x.user_id, 'accounts', x.legacy_id, 'followers')::bigint
             END, -- followers
           COALESCE(CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 = 'boolean' THEN (x.v3 #>> '{}')::boolean
                 WHEN x.t3 IN ('string', 'number')
                  AND lower(btrim(x.v3 #>> '{}', E' \t\n\r')) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n',
                      'on', 'off', '1', '0')
                 THEN lower(btrim(x.v3 #>> '{}', E' \t\n\r'))::boolean
                 ELSE "pgshred".cast_failed(x.v3, 'boolean', x.user_id, 'accounts', x.legacy_id, 'connected')::boolean
             END,
                    'false'::boolean), -- connected
           CASE WHEN x.t4 IS NULL OR x.t4 = 'null' THEN NULL
                 WHEN x.t4 = 'string'
                  AND "pgshred".is_timestamp(x.v4 #>> '{}')
                 THEN (x.v4 #>> '{}')::timestamptz
                 WHEN x.t4 = 'string'
                  AND "pgshred".is_timestamp_shaped(x.v4 #>> '{}')
                 THEN "pgshred".to_timestamptz(x.v4, x.user_id, 'accounts', x.legacy_id, 'connectedAt')
                 ELSE "pgshred".cast_failed(x.v4, 'timestamptz', x.user_id, 'accounts', x.legacy_id,
                     'connectedAt')::timestamptz
             END, -- connected_at
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"personaId"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                  OR x.t4 = 'null'
                THEN "pgshred".assemble(x.elem - ARRAY['accessToken', 'connected', 'connectedAt', 'followers', 'handle',
                    'id', 'personaId', 'platform']::text[],
                         ARRAY['id', 'personaId', 'platform', 'handle', 'followers', 'connected', 'connectedAt'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"personaId"}') = 'number'
                                   THEN x.elem #> '{"personaId"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t4 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['accessToken', 'connected', 'connectedAt', 'followers', 'handle', 'id', 'personaId',
                    'platform']::text[] END, '{}'::jsonb)
      FROM v AS x
      -- The parent by its key (user_id, id): a join Citus runs on each shard beside its parents
      -- (it takes no LIMIT in a lateral subquery over a distributed table). The batch's users
      -- again, so that Citus looks for the parents only on the shards holding them.
      LEFT JOIN "app_distributed"."personas" AS p
             ON p."user_id" = x.user_id AND p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01',
                 'personas', x.user_id, x.parent_legacy_id)
            AND p."user_id" = ANY ("pgshred".batch_users())
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'accounts', x.legacy_id) ELSE true END
        ON CONFLICT ("user_id", "id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'accounts', 'accounts',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity leads
-- leads -> app_distributed.leads: one row per element of `leads`, legacy id `id`
--   parent accounts via `accountId` -> account_id; parent missing: null
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "app_distributed"."leads" (
        "id", "user_id", "legacy_id", "position", "account_id", "name", "email", "score", "stage", "source_created_at",
            "extra"
    )
    WITH doc AS NOT MATERIALIZED (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS NOT MATERIALIZED (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem #> '{"accountId"}') IN ('string', 'number')
                     AND l0.elem #>> '{"accountId"}' <> ''
                    THEN l0.elem #>> '{"accountId"}' END AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'leads', 'leads', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                        AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'leads', 'id', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"leads"}', doc.user_id, 'leads',
             'leads', NULL))
               WITH ORDINALITY AS l0(elem, ord)
    ), x AS NOT MATERIALIZED (
        -- Duplicate legacy ids are counted by a window over each user's elements: Citus runs it on
        -- the shards, where it would bring a join of the elements with their counts to the
        -- coordinator.
        SELECT src.*, NULLIF(count(*) OVER (PARTITION BY src.user_id, src.legacy_id), 1) AS copies
          FROM src
    ), v AS NOT MATERIALIZED (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'name' AS v0, jsonb_typeof(x.elem -> 'name') AS t0,
                       x.elem -> 'email' AS v1, jsonb_typeof(x.elem -> 'email') AS t1,
                       x.elem -> 'score' AS v2, jsonb_typeof(x.elem -> 'score') AS t2,
                       x.elem -> 'stage' AS v3, jsonb_typeof(x.elem -> 'stage') AS t3,
                       x.elem -> 'createdAt' AS v4, jsonb_typeof(x.elem -> 'createdAt') AS t4
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'leads', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'leads', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           p.id,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'leads', x.legacy_id, 'name')::text
             END, -- name
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'leads', x.legacy_id, 'email')::text
             END, -- email
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number') AND "pgshred".is_number(x.v2 #>> '{}')
                 THEN (x.v2 #>> '{}')::numeric
                 ELSE "pgshred".cast_failed(x.v2, 'numeric', x.user_id, 'leads', x.legacy_id, 'score')::numeric
             END, -- score
           COALESCE(CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 IN ('string', 'number', 'boolean') THEN x.v3 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v3, 'text', x.user_id, 'leads', x.legacy_id, 'stage')::text
             END,
                    'new'::text), -- stage
           CASE WHEN x.t4 IS NULL OR x.t4 = 'null' THEN NULL
                 WHEN x.t4 = 'string'
                  AND "pgshred".is_timestamp(x.v4 #>> '{}')
                 THEN (x.v4 #>> '{}')::timestamptz
                 WHEN x.t4 = 'string'
                  AND "pgshred".is_timestamp_shaped(x.v4 #>> '{}')
                 THEN "pgshred".to_timestamptz(x.v4, x.user_id, 'leads', x.legacy_id, 'createdAt')
                 ELSE "pgshred".cast_failed(x.v4, 'timestamptz', x.user_id, 'leads', x.legacy_id,
                     'createdAt')::timestamptz
             END, -- source_created_at
           -- A reference to a parent that does not exist is kept in extra, not lost.
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"accountId"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                  OR x.t4 = 'null'
                THEN "pgshred".assemble(x.elem - ARRAY['accountId', 'createdAt', 'email', 'id', 'name', 'score',
                    'stage']::text[],
                         ARRAY['id', 'accountId', 'name', 'email', 'score', 'stage', 'createdAt'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"accountId"}') = 'number'
                                   THEN x.elem #> '{"accountId"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t4 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['accountId', 'createdAt', 'email', 'id', 'name', 'score', 'stage']::text[] END
                  || CASE WHEN p."id" IS NULL AND x.elem #> '{"accountId"}' IS NOT NULL
                          THEN "pgshred".assemble('{}'::jsonb, ARRAY['accountId'], ARRAY[x.elem #> '{"accountId"}'])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM v AS x
      -- The parent by its key (user_id, id): a join Citus runs on each shard beside its parents
      -- (it takes no LIMIT in a lateral subquery over a distributed table). The batch's users
      -- again, so that Citus looks for the parents only on the shards holding them.
      LEFT JOIN "app_distributed"."accounts" AS p
             ON p."user_id" = x.user_id AND p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01',
                 'accounts', x.user_id, x.parent_legacy_id)
            AND p."user_id" = ANY ("pgshred".batch_users())
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'leads', x.legacy_id) ELSE true END
        ON CONFLICT ("user_id", "id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'leads', 'leads',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity references
-- references -> app_distributed.references: one row per element of `references`, legacy id `id`
--   parent personas via `personaId` -> persona_id; parent missing: skip
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "app_distributed"."references" (
        "id", "user_id", "legacy_id", "position", "persona_id", "url", "title", "note", "added_on", "extra"
    )
    WITH doc AS NOT MATERIALIZED (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS NOT MATERIALIZED (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem #> '{"personaId"}') IN ('string', 'number')
                     AND l0.elem #>> '{"personaId"}' <> ''
                    THEN l0.elem #>> '{"personaId"}' END AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'references', 'references', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                        AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'references', 'id', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"references"}', doc.user_id,
             'references', 'references', NULL))
               WITH ORDINALITY AS l0(elem, ord)
    ), x AS NOT MATERIALIZED (
        -- Duplicate legacy ids are counted by a window over each user's elements: Citus runs it on
        -- the shards, where it would bring a join of the elements with their counts to the
        -- coordinator.
        SELECT src.*, NULLIF(count(*) OVER (PARTITION BY src.user_id, src.legacy_id), 1) AS copies
          FROM src
    ), v AS NOT MATERIALIZED (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'url' AS v0, jsonb_typeof(x.elem -> 'url') AS t0,
                       x.elem -> 'title' AS v1, jsonb_typeof(x.elem -> 'title') AS t1,
                       x.elem -> 'note' AS v2, jsonb_typeof(x.elem -> 'note') AS t2,
                       x.elem -> 'addedOn' AS v3, jsonb_typeof(x.elem -> 'addedOn') AS t3
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'references', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'references', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           p.id,
           COALESCE(CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'references', x.legacy_id, 'url')::text
             END,
                    "pgshred".missing_required(x.user_id, 'references', x.legacy_id, 'url')::text), -- url
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'references', x.legacy_id, 'title')::text
             END, -- title
           CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 IN ('string', 'number', 'boolean') THEN x.v2 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v2, 'text', x.user_id, 'references', x.legacy_id, 'note')::text
             END, -- note
           CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 = 'string' AND "pgshred".is_date(x.v3 #>> '{}')
                 THEN (x.v3 #>> '{}')::date
                 WHEN x.t3 = 'string' AND x.v3 #>> '{}' ~ '^[ \t\n\r]*[0-9]{4}-[0-9]{2}-[0-9]{2}[ \t\n\r]*$'
                 THEN "pgshred".to_date(x.v3, x.user_id, 'references', x.legacy_id, 'addedOn')
                 ELSE "pgshred".cast_failed(x.v3, 'date', x.user_id, 'references', x.legacy_id, 'addedOn')::date
             END, -- added_on
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"personaId"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                THEN "pgshred".assemble(x.elem - ARRAY['addedOn', 'id', 'note', 'personaId', 'title', 'url']::text[],
                         ARRAY['id', 'personaId', 'url', 'title', 'note', 'addedOn'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"personaId"}') = 'number'
                                   THEN x.elem #> '{"personaId"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['addedOn', 'id', 'note', 'personaId', 'title', 'url']::text[] END, '{}'::jsonb)
      FROM v AS x
      -- The parent by its key (user_id, id): a join Citus runs on each shard beside its parents
      -- (it takes no LIMIT in a lateral subquery over a distributed table). The batch's users
      -- again, so that Citus looks for the parents only on the shards holding them.
      LEFT JOIN "app_distributed"."personas" AS p
             ON p."user_id" = x.user_id AND p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01',
                 'personas', x.user_id, x.parent_legacy_id)
            AND p."user_id" = ANY ("pgshred".batch_users())
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'references', x.legacy_id) ELSE true END
  AND p."id" IS NOT NULL
        ON CONFLICT ("user_id", "id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'references', 'references',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";

-- pgshred:entity inbox_items
-- inbox_items -> app_distributed.inbox_items: one row per element of `inboxItems`, legacy id `id`
--   parent accounts via `accountId` -> account_id; parent missing: null
--   duplicate legacy id within a user: error; missing legacy id: error
WITH ins AS (
    INSERT INTO "app_distributed"."inbox_items" (
        "id", "user_id", "legacy_id", "position", "account_id", "sender", "subject", "received_at", "is_read",
            "payload", "extra"
    )
    WITH doc AS NOT MATERIALIZED (
        SELECT DISTINCT ON (s."user_id")
               s."user_id"::text AS user_id,
               s."state" AS doc
          FROM "public"."user_app_state" AS s
         WHERE s."user_id" = ANY ("pgshred".batch_users())
         ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
    ), src AS NOT MATERIALIZED (
        SELECT doc.user_id,
               l0.elem,
               l0.ord AS ord0,
               CASE WHEN jsonb_typeof(l0.elem #> '{"accountId"}') IN ('string', 'number')
                     AND l0.elem #>> '{"accountId"}' <> ''
                    THEN l0.elem #>> '{"accountId"}' END AS parent_legacy_id,
               CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                    THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'inbox_items', 'inboxItems', '#' || l0.ord)
                    ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                        AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem,
                        doc.user_id, 'inbox_items', 'id', '#' || l0.ord) END
                END AS legacy_id
          FROM doc
         CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"inboxItems"}', doc.user_id,
             'inbox_items', 'inboxItems', NULL))
               WITH ORDINALITY AS l0(elem, ord)
    ), x AS NOT MATERIALIZED (
        -- Duplicate legacy ids are counted by a window over each user's elements: Citus runs it on
        -- the shards, where it would bring a join of the elements with their counts to the
        -- coordinator.
        SELECT src.*, NULLIF(count(*) OVER (PARTITION BY src.user_id, src.legacy_id), 1) AS copies
          FROM src
    ), v AS NOT MATERIALIZED (
        -- Each mapped value and its JSON type, read once per element (OFFSET 0 keeps the planner
        -- from copying the expressions back into every use).
        SELECT x.*, c.*
          FROM x
         CROSS JOIN LATERAL (SELECT
                       x.elem -> 'from' AS v0, jsonb_typeof(x.elem -> 'from') AS t0,
                       x.elem -> 'subject' AS v1, jsonb_typeof(x.elem -> 'subject') AS t1,
                       x.elem -> 'receivedAt' AS v2, jsonb_typeof(x.elem -> 'receivedAt') AS t2,
                       x.elem -> 'read' AS v3, jsonb_typeof(x.elem -> 'read') AS t3,
                       x.elem -> 'payload' AS v4, jsonb_typeof(x.elem -> 'payload') AS t4
                       OFFSET 0) AS c
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'inbox_items', x.user_id, x.legacy_id),
           x.user_id,
           CASE WHEN octet_length(x.legacy_id) <= 1000 THEN x.legacy_id
                ELSE "pgshred".id_too_long(x.user_id, 'inbox_items', x.legacy_id) END,
           x.ord0, -- position: the element's position in its array
           p.id,
           CASE WHEN x.t0 IS NULL OR x.t0 = 'null' THEN NULL
                 WHEN x.t0 IN ('string', 'number', 'boolean') THEN x.v0 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v0, 'text', x.user_id, 'inbox_items', x.legacy_id, 'from')::text
             END, -- sender
           CASE WHEN x.t1 IS NULL OR x.t1 = 'null' THEN NULL
                 WHEN x.t1 IN ('string', 'number', 'boolean') THEN x.v1 #>> '{}'
                 ELSE "pgshred".cast_failed(x.v1, 'text', x.user_id, 'inbox_items', x.legacy_id, 'subject')::text
             END, -- subject
           COALESCE(CASE WHEN x.t2 IS NULL OR x.t2 = 'null' THEN NULL
                 WHEN x.t2 = 'string'
                  AND "pgshred".is_timestamp(x.v2 #>> '{}')
                 THEN (x.v2 #>> '{}')::timestamptz
                 WHEN x.t2 = 'string'
                  AND "pgshred".is_timestamp_shaped(x.v2 #>> '{}')
                 THEN "pgshred".to_timestamptz(x.v2, x.user_id, 'inbox_items', x.legacy_id, 'receivedAt')
                 ELSE "pgshred".cast_failed(x.v2, 'timestamptz', x.user_id, 'inbox_items', x.legacy_id,
                     'receivedAt')::timestamptz
             END,
                    "pgshred".missing_required(x.user_id, 'inbox_items', x.legacy_id, 'receivedAt')::timestamptz),
                    -- received_at
           COALESCE(CASE WHEN x.t3 IS NULL OR x.t3 = 'null' THEN NULL
                 WHEN x.t3 = 'boolean' THEN (x.v3 #>> '{}')::boolean
                 WHEN x.t3 IN ('string', 'number')
                  AND lower(btrim(x.v3 #>> '{}', E' \t\n\r')) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n',
                      'on', 'off', '1', '0')
                 THEN lower(btrim(x.v3 #>> '{}', E' \t\n\r'))::boolean
                 ELSE "pgshred".cast_failed(x.v3, 'boolean', x.user_id, 'inbox_items', x.legacy_id, 'read')::boolean
             END,
                    'false'::boolean), -- is_read
           NULLIF(x.v4, 'null'::jsonb), -- payload
           -- A reference to a parent that does not exist is kept in extra, not lost.
           NULLIF(CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number'
                  OR jsonb_typeof(x.elem #> '{"accountId"}') = 'number'
                  OR x.t0 = 'null'
                  OR x.t1 = 'null'
                  OR x.t2 = 'null'
                  OR x.t3 = 'null'
                  OR x.t4 = 'null'
                THEN "pgshred".assemble(x.elem - ARRAY['accountId', 'from', 'id', 'payload', 'read', 'receivedAt',
                    'subject']::text[],
                         ARRAY['id', 'accountId', 'from', 'subject', 'receivedAt', 'read', 'payload'],
                         ARRAY[CASE WHEN jsonb_typeof(x.elem #> '{"id"}') = 'number' THEN x.elem #> '{"id"}' END,
                               CASE WHEN jsonb_typeof(x.elem #> '{"accountId"}') = 'number'
                                   THEN x.elem #> '{"accountId"}' END,
                               CASE WHEN x.t0 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t1 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t2 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t3 = 'null' THEN 'null'::jsonb END,
                               CASE WHEN x.t4 = 'null' THEN 'null'::jsonb END]::jsonb[])
                ELSE x.elem - ARRAY['accountId', 'from', 'id', 'payload', 'read', 'receivedAt', 'subject']::text[] END
                  || CASE WHEN p."id" IS NULL AND x.elem #> '{"accountId"}' IS NOT NULL
                          THEN "pgshred".assemble('{}'::jsonb, ARRAY['accountId'], ARRAY[x.elem #> '{"accountId"}'])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM v AS x
      -- The parent by its key (user_id, id): a join Citus runs on each shard beside its parents
      -- (it takes no LIMIT in a lateral subquery over a distributed table). The batch's users
      -- again, so that Citus looks for the parents only on the shards holding them.
      LEFT JOIN "app_distributed"."accounts" AS p
             ON p."user_id" = x.user_id AND p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01',
                 'accounts', x.user_id, x.parent_legacy_id)
            AND p."user_id" = ANY ("pgshred".batch_users())
WHERE CASE WHEN x.copies IS NOT NULL THEN "pgshred".duplicate_id(x.user_id, 'inbox_items', x.legacy_id) ELSE true END
        ON CONFLICT ("user_id", "id") DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit_sets" ("run_id", "batch_id", "user_id", "source_entity", "target_table",
    "legacy_ids", "target_ids")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'inbox_items', 'inbox_items',
       array_agg(ins."legacy_id" ORDER BY ins."legacy_id"), array_agg(ins."id" ORDER BY ins."legacy_id")
  FROM ins
 GROUP BY ins."user_id";
