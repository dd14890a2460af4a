-- pgshred 0.1.0 -- plan user_app_state: forward migration of ONE batch of users.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- Set-based: each entity is one INSERT ... SELECT over every user of the batch, parents before
-- children (orgs, personas, contents, accounts, leads, references, inbox_items).
-- Each new row's id is uuid_generate_v5(namespace, '<entity>:<len(user_id)>:<user_id>:<legacy id>'),
-- so a parent link needs no lookup and running a batch twice inserts nothing the second time
-- (ON CONFLICT DO NOTHING). Every inserted row gets one row in pgshred.migration_audit,
-- which is what rollback deletes by.
--
-- A value that does not convert to its column type, a missing legacy id, an orphan under an `error`
-- policy or a duplicate legacy id under an `error` policy raises an error naming the user, entity,
-- path and value: the whole batch rolls back.
--
-- Run it inside a transaction, after 01_schema.sql and 02_audit.sql:
--   BEGIN;
--   SELECT pgshred.begin_batch('user_app_state', ARRAY['user-1', 'user-2']);
--   \i 03_forward.sql
--   \i 04_verify.sql      -- must return no rows
--   COMMIT;
-- `pgshred apply` does exactly this, batch by batch, with progress kept in pgshred.migration_batches.

-- Naive timestamps in documents are read as UTC, whatever the session's time zone.
SET LOCAL TIME ZONE 'UTC';

-- orgs -> public.orgs: one row per element of `orgs`, legacy id `id`
--   duplicate legacy id within a user: keep_first; missing legacy id: error
WITH doc AS (
    SELECT DISTINCT ON (s."user_id")
           s."user_id"::text AS user_id,
           s."state" AS doc
      FROM "public"."user_app_state" AS s
     WHERE s."user_id" IN (SELECT unnest("pgshred".batch_users()))
     ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
), src AS (
    SELECT doc.user_id,
           l0.elem,
           l0.ord AS ord0,
           CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'orgs', 'orgs', '#' || l0.ord)
                ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem, doc.user_id, 'orgs', 'id', '#' || l0.ord) END
            END AS legacy_id
      FROM doc
     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"orgs"}', doc.user_id, 'orgs', 'orgs'))
           WITH ORDINALITY AS l0(elem, ord)
), x AS (
    SELECT DISTINCT ON (src.user_id, src.legacy_id) src.*
      FROM src
     ORDER BY src.user_id, src.legacy_id, src.ord0
), ins AS (
    INSERT INTO "public"."orgs" (
        "id", "user_id", "legacy_id", "name", "plan", "seats", "settings", "source_created_at", "extra"
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'orgs', x.user_id, x.legacy_id),
           x.user_id,
           x.legacy_id,
           COALESCE(CASE WHEN x.elem #> '{"name"}' IS NULL OR jsonb_typeof(x.elem #> '{"name"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"name"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"name"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"name"}', 'text', x.user_id, 'orgs', x.legacy_id, 'name')::text
             END,
                    "pgshred".missing_required(x.user_id, 'orgs', x.legacy_id, 'name')::text), -- name
           COALESCE(CASE WHEN x.elem #> '{"plan"}' IS NULL OR jsonb_typeof(x.elem #> '{"plan"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"plan"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"plan"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"plan"}', 'text', x.user_id, 'orgs', x.legacy_id, 'plan')::text
             END,
                    'free'::text), -- plan
           CASE WHEN x.elem #> '{"seats"}' IS NULL OR jsonb_typeof(x.elem #> '{"seats"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"seats"}') IN ('string', 'number') AND x.elem #> '{"seats"}' #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.elem #> '{"seats"}' #>> '{}')::numeric BETWEEN -2147483648 AND 2147483647
                           THEN (x.elem #> '{"seats"}' #>> '{}')::numeric::integer
                           ELSE "pgshred".cast_failed(x.elem #> '{"seats"}', 'integer', x.user_id, 'orgs', x.legacy_id, 'seats')::integer END
                 ELSE "pgshred".cast_failed(x.elem #> '{"seats"}', 'integer', x.user_id, 'orgs', x.legacy_id, 'seats')::integer
             END, -- seats
           NULLIF(x.elem #> '{"settings"}', 'null'::jsonb), -- settings
           CASE WHEN x.elem #> '{"createdAt"}' IS NULL OR jsonb_typeof(x.elem #> '{"createdAt"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"createdAt"}') = 'string'
                  AND x.elem #> '{"createdAt"}' #>> '{}' ~ '^[ \t\n\r]*[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?[ \t\n\r]*$'
                 THEN "pgshred".to_timestamptz(x.elem #> '{"createdAt"}', x.user_id, 'orgs', x.legacy_id, 'createdAt')
                 ELSE "pgshred".cast_failed(x.elem #> '{"createdAt"}', 'timestamptz', x.user_id, 'orgs', x.legacy_id, 'createdAt')::timestamptz
             END, -- source_created_at
           NULLIF(x.elem - ARRAY['_localCache', 'createdAt', 'id', 'name', 'plan', 'seats', 'settings']::text[], '{}'::jsonb)
      FROM x
     ORDER BY x.user_id, x.ord0
        ON CONFLICT DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit" ("run_id", "batch_id", "user_id", "source_entity", "legacy_id", "target_table", "target_id")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'orgs', ins."legacy_id", 'orgs', ins."id"
  FROM ins;

-- personas -> public.personas: one row per element of `personas`, legacy id `id`
--   parent orgs via `orgId` -> org_id; parent missing: null
--   duplicate legacy id within a user: error; missing legacy id: error
WITH doc AS (
    SELECT DISTINCT ON (s."user_id")
           s."user_id"::text AS user_id,
           s."state" AS doc
      FROM "public"."user_app_state" AS s
     WHERE s."user_id" IN (SELECT unnest("pgshred".batch_users()))
     ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
), src AS (
    SELECT doc.user_id,
           l0.elem,
           l0.ord AS ord0,
           CASE WHEN jsonb_typeof(l0.elem #> '{"orgId"}') IN ('string', 'number')
                 AND l0.elem #>> '{"orgId"}' <> ''
                THEN l0.elem #>> '{"orgId"}' END AS parent_legacy_id,
           CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'personas', 'personas', '#' || l0.ord)
                ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem, doc.user_id, 'personas', 'id', '#' || l0.ord) END
            END AS legacy_id
      FROM doc
     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"personas"}', doc.user_id, 'personas', 'personas'))
           WITH ORDINALITY AS l0(elem, ord)
), x AS (
    SELECT src.*, count(*) OVER (PARTITION BY src.user_id, src.legacy_id) AS copies
      FROM src
), ins AS (
    INSERT INTO "public"."personas" (
        "id", "user_id", "legacy_id", "org_id", "name", "tone", "bio", "avatar_url", "is_default", "source_created_at", "extra"
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'personas', x.user_id, x.legacy_id),
           x.user_id,
           x.legacy_id,
           p.id,
           COALESCE(CASE WHEN x.elem #> '{"name"}' IS NULL OR jsonb_typeof(x.elem #> '{"name"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"name"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"name"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"name"}', 'text', x.user_id, 'personas', x.legacy_id, 'name')::text
             END,
                    "pgshred".missing_required(x.user_id, 'personas', x.legacy_id, 'name')::text), -- name
           COALESCE(CASE WHEN x.elem #> '{"tone"}' IS NULL OR jsonb_typeof(x.elem #> '{"tone"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"tone"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"tone"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"tone"}', 'text', x.user_id, 'personas', x.legacy_id, 'tone')::text
             END,
                    'neutral'::text), -- tone
           CASE WHEN x.elem #> '{"profile","bio"}' IS NULL OR jsonb_typeof(x.elem #> '{"profile","bio"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"profile","bio"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"profile","bio"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"profile","bio"}', 'text', x.user_id, 'personas', x.legacy_id, 'profile.bio')::text
             END, -- bio
           CASE WHEN x.elem #> '{"profile","avatarUrl"}' IS NULL OR jsonb_typeof(x.elem #> '{"profile","avatarUrl"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"profile","avatarUrl"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"profile","avatarUrl"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"profile","avatarUrl"}', 'text', x.user_id, 'personas', x.legacy_id, 'profile.avatarUrl')::text
             END, -- avatar_url
           COALESCE(CASE WHEN x.elem #> '{"isDefault"}' IS NULL OR jsonb_typeof(x.elem #> '{"isDefault"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"isDefault"}') = 'boolean' THEN (x.elem #> '{"isDefault"}' #>> '{}')::boolean
                 WHEN jsonb_typeof(x.elem #> '{"isDefault"}') IN ('string', 'number')
                  AND lower(btrim(x.elem #> '{"isDefault"}' #>> '{}', E' \t\n\r')) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n', 'on', 'off', '1', '0')
                 THEN lower(btrim(x.elem #> '{"isDefault"}' #>> '{}', E' \t\n\r'))::boolean
                 ELSE "pgshred".cast_failed(x.elem #> '{"isDefault"}', 'boolean', x.user_id, 'personas', x.legacy_id, 'isDefault')::boolean
             END,
                    'false'::boolean), -- is_default
           CASE WHEN x.elem #> '{"createdAt"}' IS NULL OR jsonb_typeof(x.elem #> '{"createdAt"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"createdAt"}') = 'string'
                  AND x.elem #> '{"createdAt"}' #>> '{}' ~ '^[ \t\n\r]*[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?[ \t\n\r]*$'
                 THEN "pgshred".to_timestamptz(x.elem #> '{"createdAt"}', x.user_id, 'personas', x.legacy_id, 'createdAt')
                 ELSE "pgshred".cast_failed(x.elem #> '{"createdAt"}', 'timestamptz', x.user_id, 'personas', x.legacy_id, 'createdAt')::timestamptz
             END, -- source_created_at
           -- A reference to a parent that does not exist is kept in extra, not lost.
           NULLIF("pgshred".prune(x.elem - ARRAY['createdAt', 'id', 'isDefault', 'name', 'orgId', 'tone']::text[] #- '{"profile","avatarUrl"}' #- '{"profile","bio"}', '{"profile"}')
                  || CASE WHEN p."id" IS NULL AND x.elem #> '{"orgId"}' IS NOT NULL
                          THEN "pgshred".assemble('{}'::jsonb, ARRAY['orgId'], ARRAY[x.elem #> '{"orgId"}'])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "public"."orgs" AS p
                          WHERE p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'orgs', x.user_id, x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies > 1 THEN "pgshred".duplicate_id(x.user_id, 'personas', x.legacy_id) ELSE true END
     ORDER BY x.user_id, x.ord0
        ON CONFLICT DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit" ("run_id", "batch_id", "user_id", "source_entity", "legacy_id", "target_table", "target_id")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'personas', ins."legacy_id", 'personas', ins."id"
  FROM ins;

-- contents -> public.contents: one row per element of `contents`, legacy id `id`
--   parent personas via `personaId` -> persona_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: error
WITH doc AS (
    SELECT DISTINCT ON (s."user_id")
           s."user_id"::text AS user_id,
           s."state" AS doc
      FROM "public"."user_app_state" AS s
     WHERE s."user_id" IN (SELECT unnest("pgshred".batch_users()))
     ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
), src AS (
    SELECT doc.user_id,
           l0.elem,
           l0.ord AS ord0,
           CASE WHEN jsonb_typeof(l0.elem #> '{"personaId"}') IN ('string', 'number')
                 AND l0.elem #>> '{"personaId"}' <> ''
                THEN l0.elem #>> '{"personaId"}' END AS parent_legacy_id,
           CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'contents', 'contents', '#' || l0.ord)
                ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem, doc.user_id, 'contents', 'id', '#' || l0.ord) END
            END AS legacy_id
      FROM doc
     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"contents"}', doc.user_id, 'contents', 'contents'))
           WITH ORDINALITY AS l0(elem, ord)
), x AS (
    SELECT src.*, count(*) OVER (PARTITION BY src.user_id, src.legacy_id) AS copies
      FROM src
), ins AS (
    INSERT INTO "public"."contents" (
        "id", "user_id", "legacy_id", "persona_id", "title", "body", "status", "tags", "word_count", "published_at", "source_created_at", "extra"
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'contents', x.user_id, x.legacy_id),
           x.user_id,
           x.legacy_id,
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'contents', x.legacy_id, 'personas', 'personaId', x.parent_legacy_id) END,
           CASE WHEN x.elem #> '{"title"}' IS NULL OR jsonb_typeof(x.elem #> '{"title"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"title"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"title"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"title"}', 'text', x.user_id, 'contents', x.legacy_id, 'title')::text
             END, -- title
           CASE WHEN x.elem #> '{"body"}' IS NULL OR jsonb_typeof(x.elem #> '{"body"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"body"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"body"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"body"}', 'text', x.user_id, 'contents', x.legacy_id, 'body')::text
             END, -- body
           COALESCE(CASE WHEN x.elem #> '{"status"}' IS NULL OR jsonb_typeof(x.elem #> '{"status"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"status"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"status"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"status"}', 'text', x.user_id, 'contents', x.legacy_id, 'status')::text
             END,
                    'draft'::text), -- status
           CASE WHEN x.elem #> '{"tags"}' IS NULL OR jsonb_typeof(x.elem #> '{"tags"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"tags"}') = 'array'
                  AND NOT jsonb_path_exists(x.elem #> '{"tags"}', '$[*] ? (@.type() == "object" || @.type() == "array")')
                 THEN ARRAY(SELECT a.item #>> '{}' FROM jsonb_array_elements(x.elem #> '{"tags"}') WITH ORDINALITY AS a(item, n) ORDER BY a.n)
                 ELSE "pgshred".cast_failed(x.elem #> '{"tags"}', 'text[]', x.user_id, 'contents', x.legacy_id, 'tags')::text[]
             END, -- tags
           CASE WHEN x.elem #> '{"wordCount"}' IS NULL OR jsonb_typeof(x.elem #> '{"wordCount"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"wordCount"}') IN ('string', 'number') AND x.elem #> '{"wordCount"}' #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.elem #> '{"wordCount"}' #>> '{}')::numeric BETWEEN -2147483648 AND 2147483647
                           THEN (x.elem #> '{"wordCount"}' #>> '{}')::numeric::integer
                           ELSE "pgshred".cast_failed(x.elem #> '{"wordCount"}', 'integer', x.user_id, 'contents', x.legacy_id, 'wordCount')::integer END
                 ELSE "pgshred".cast_failed(x.elem #> '{"wordCount"}', 'integer', x.user_id, 'contents', x.legacy_id, 'wordCount')::integer
             END, -- word_count
           CASE WHEN x.elem #> '{"publishedAt"}' IS NULL OR jsonb_typeof(x.elem #> '{"publishedAt"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"publishedAt"}') = 'string'
                  AND x.elem #> '{"publishedAt"}' #>> '{}' ~ '^[ \t\n\r]*[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?[ \t\n\r]*$'
                 THEN "pgshred".to_timestamptz(x.elem #> '{"publishedAt"}', x.user_id, 'contents', x.legacy_id, 'publishedAt')
                 ELSE "pgshred".cast_failed(x.elem #> '{"publishedAt"}', 'timestamptz', x.user_id, 'contents', x.legacy_id, 'publishedAt')::timestamptz
             END, -- published_at
           CASE WHEN x.elem #> '{"createdAt"}' IS NULL OR jsonb_typeof(x.elem #> '{"createdAt"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"createdAt"}') = 'string'
                  AND x.elem #> '{"createdAt"}' #>> '{}' ~ '^[ \t\n\r]*[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?[ \t\n\r]*$'
                 THEN "pgshred".to_timestamptz(x.elem #> '{"createdAt"}', x.user_id, 'contents', x.legacy_id, 'createdAt')
                 ELSE "pgshred".cast_failed(x.elem #> '{"createdAt"}', 'timestamptz', x.user_id, 'contents', x.legacy_id, 'createdAt')::timestamptz
             END, -- source_created_at
           NULLIF(x.elem - ARRAY['body', 'createdAt', 'id', 'personaId', 'publishedAt', 'renderedHtml', 'status', 'tags', 'title', 'wordCount']::text[], '{}'::jsonb)
      FROM x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "public"."personas" AS p
                          WHERE p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'personas', x.user_id, x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies > 1 THEN "pgshred".duplicate_id(x.user_id, 'contents', x.legacy_id) ELSE true END
     ORDER BY x.user_id, x.ord0
        ON CONFLICT DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit" ("run_id", "batch_id", "user_id", "source_entity", "legacy_id", "target_table", "target_id")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'contents', ins."legacy_id", 'contents', ins."id"
  FROM ins;

-- accounts -> public.accounts: one row per element of `accounts`, legacy id `id`
--   parent personas via `personaId` -> persona_id; parent missing: error
--   duplicate legacy id within a user: error; missing legacy id: error
WITH doc AS (
    SELECT DISTINCT ON (s."user_id")
           s."user_id"::text AS user_id,
           s."state" AS doc
      FROM "public"."user_app_state" AS s
     WHERE s."user_id" IN (SELECT unnest("pgshred".batch_users()))
     ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
), src AS (
    SELECT doc.user_id,
           l0.elem,
           l0.ord AS ord0,
           CASE WHEN jsonb_typeof(l0.elem #> '{"personaId"}') IN ('string', 'number')
                 AND l0.elem #>> '{"personaId"}' <> ''
                THEN l0.elem #>> '{"personaId"}' END AS parent_legacy_id,
           CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'accounts', 'accounts', '#' || l0.ord)
                ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem, doc.user_id, 'accounts', 'id', '#' || l0.ord) END
            END AS legacy_id
      FROM doc
     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"accounts"}', doc.user_id, 'accounts', 'accounts'))
           WITH ORDINALITY AS l0(elem, ord)
), x AS (
    SELECT src.*, count(*) OVER (PARTITION BY src.user_id, src.legacy_id) AS copies
      FROM src
), ins AS (
    INSERT INTO "public"."accounts" (
        "id", "user_id", "legacy_id", "persona_id", "platform", "handle", "followers", "connected", "connected_at", "extra"
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'accounts', x.user_id, x.legacy_id),
           x.user_id,
           x.legacy_id,
           CASE WHEN p.id IS NOT NULL THEN p.id
                ELSE "pgshred".missing_parent(x.user_id, 'accounts', x.legacy_id, 'personas', 'personaId', x.parent_legacy_id) END,
           COALESCE(CASE WHEN x.elem #> '{"platform"}' IS NULL OR jsonb_typeof(x.elem #> '{"platform"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"platform"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"platform"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"platform"}', 'text', x.user_id, 'accounts', x.legacy_id, 'platform')::text
             END,
                    "pgshred".missing_required(x.user_id, 'accounts', x.legacy_id, 'platform')::text), -- platform
           CASE WHEN x.elem #> '{"handle"}' IS NULL OR jsonb_typeof(x.elem #> '{"handle"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"handle"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"handle"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"handle"}', 'text', x.user_id, 'accounts', x.legacy_id, 'handle')::text
             END, -- handle
           CASE WHEN x.elem #> '{"followers"}' IS NULL OR jsonb_typeof(x.elem #> '{"followers"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"followers"}') IN ('string', 'number') AND x.elem #> '{"followers"}' #>> '{}' ~ '^[ \t\n\r]*[+-]?[0-9]+(\.0+)?[ \t\n\r]*$'
                 THEN CASE WHEN (x.elem #> '{"followers"}' #>> '{}')::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
                           THEN (x.elem #> '{"followers"}' #>> '{}')::numeric::bigint
                           ELSE "pgshred".cast_failed(x.elem #> '{"followers"}', 'bigint', x.user_id, 'accounts', x.legacy_id, 'followers')::bigint END
                 ELSE "pgshred".cast_failed(x.elem #> '{"followers"}', 'bigint', x.user_id, 'accounts', x.legacy_id, 'followers')::bigint
             END, -- followers
           COALESCE(CASE WHEN x.elem #> '{"connected"}' IS NULL OR jsonb_typeof(x.elem #> '{"connected"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"connected"}') = 'boolean' THEN (x.elem #> '{"connected"}' #>> '{}')::boolean
                 WHEN jsonb_typeof(x.elem #> '{"connected"}') IN ('string', 'number')
                  AND lower(btrim(x.elem #> '{"connected"}' #>> '{}', E' \t\n\r')) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n', 'on', 'off', '1', '0')
                 THEN lower(btrim(x.elem #> '{"connected"}' #>> '{}', E' \t\n\r'))::boolean
                 ELSE "pgshred".cast_failed(x.elem #> '{"connected"}', 'boolean', x.user_id, 'accounts', x.legacy_id, 'connected')::boolean
             END,
                    'false'::boolean), -- connected
           CASE WHEN x.elem #> '{"connectedAt"}' IS NULL OR jsonb_typeof(x.elem #> '{"connectedAt"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"connectedAt"}') = 'string'
                  AND x.elem #> '{"connectedAt"}' #>> '{}' ~ '^[ \t\n\r]*[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?[ \t\n\r]*$'
                 THEN "pgshred".to_timestamptz(x.elem #> '{"connectedAt"}', x.user_id, 'accounts', x.legacy_id, 'connectedAt')
                 ELSE "pgshred".cast_failed(x.elem #> '{"connectedAt"}', 'timestamptz', x.user_id, 'accounts', x.legacy_id, 'connectedAt')::timestamptz
             END, -- connected_at
           NULLIF(x.elem - ARRAY['accessToken', 'connected', 'connectedAt', 'followers', 'handle', 'id', 'personaId', 'platform']::text[], '{}'::jsonb)
      FROM x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "public"."personas" AS p
                          WHERE p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'personas', x.user_id, x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies > 1 THEN "pgshred".duplicate_id(x.user_id, 'accounts', x.legacy_id) ELSE true END
     ORDER BY x.user_id, x.ord0
        ON CONFLICT DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit" ("run_id", "batch_id", "user_id", "source_entity", "legacy_id", "target_table", "target_id")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'accounts', ins."legacy_id", 'accounts', ins."id"
  FROM ins;

-- leads -> public.leads: one row per element of `leads`, legacy id `id`
--   parent accounts via `accountId` -> account_id; parent missing: null
--   duplicate legacy id within a user: error; missing legacy id: error
WITH doc AS (
    SELECT DISTINCT ON (s."user_id")
           s."user_id"::text AS user_id,
           s."state" AS doc
      FROM "public"."user_app_state" AS s
     WHERE s."user_id" IN (SELECT unnest("pgshred".batch_users()))
     ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
), src AS (
    SELECT doc.user_id,
           l0.elem,
           l0.ord AS ord0,
           CASE WHEN jsonb_typeof(l0.elem #> '{"accountId"}') IN ('string', 'number')
                 AND l0.elem #>> '{"accountId"}' <> ''
                THEN l0.elem #>> '{"accountId"}' END AS parent_legacy_id,
           CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'leads', 'leads', '#' || l0.ord)
                ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem, doc.user_id, 'leads', 'id', '#' || l0.ord) END
            END AS legacy_id
      FROM doc
     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"leads"}', doc.user_id, 'leads', 'leads'))
           WITH ORDINALITY AS l0(elem, ord)
), x AS (
    SELECT src.*, count(*) OVER (PARTITION BY src.user_id, src.legacy_id) AS copies
      FROM src
), ins AS (
    INSERT INTO "public"."leads" (
        "id", "user_id", "legacy_id", "account_id", "name", "email", "score", "stage", "source_created_at", "extra"
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'leads', x.user_id, x.legacy_id),
           x.user_id,
           x.legacy_id,
           p.id,
           CASE WHEN x.elem #> '{"name"}' IS NULL OR jsonb_typeof(x.elem #> '{"name"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"name"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"name"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"name"}', 'text', x.user_id, 'leads', x.legacy_id, 'name')::text
             END, -- name
           CASE WHEN x.elem #> '{"email"}' IS NULL OR jsonb_typeof(x.elem #> '{"email"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"email"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"email"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"email"}', 'text', x.user_id, 'leads', x.legacy_id, 'email')::text
             END, -- email
           CASE WHEN x.elem #> '{"score"}' IS NULL OR jsonb_typeof(x.elem #> '{"score"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"score"}') IN ('string', 'number') AND x.elem #> '{"score"}' #>> '{}' ~ '^[ \t\n\r]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r]*$'
                 THEN (x.elem #> '{"score"}' #>> '{}')::numeric
                 ELSE "pgshred".cast_failed(x.elem #> '{"score"}', 'numeric', x.user_id, 'leads', x.legacy_id, 'score')::numeric
             END, -- score
           COALESCE(CASE WHEN x.elem #> '{"stage"}' IS NULL OR jsonb_typeof(x.elem #> '{"stage"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"stage"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"stage"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"stage"}', 'text', x.user_id, 'leads', x.legacy_id, 'stage')::text
             END,
                    'new'::text), -- stage
           CASE WHEN x.elem #> '{"createdAt"}' IS NULL OR jsonb_typeof(x.elem #> '{"createdAt"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"createdAt"}') = 'string'
                  AND x.elem #> '{"createdAt"}' #>> '{}' ~ '^[ \t\n\r]*[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?[ \t\n\r]*$'
                 THEN "pgshred".to_timestamptz(x.elem #> '{"createdAt"}', x.user_id, 'leads', x.legacy_id, 'createdAt')
                 ELSE "pgshred".cast_failed(x.elem #> '{"createdAt"}', 'timestamptz', x.user_id, 'leads', x.legacy_id, 'createdAt')::timestamptz
             END, -- source_created_at
           -- A reference to a parent that does not exist is kept in extra, not lost.
           NULLIF(x.elem - ARRAY['accountId', 'createdAt', 'email', 'id', 'name', 'score', 'stage']::text[]
                  || CASE WHEN p."id" IS NULL AND x.elem #> '{"accountId"}' IS NOT NULL
                          THEN "pgshred".assemble('{}'::jsonb, ARRAY['accountId'], ARRAY[x.elem #> '{"accountId"}'])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "public"."accounts" AS p
                          WHERE p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'accounts', x.user_id, x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies > 1 THEN "pgshred".duplicate_id(x.user_id, 'leads', x.legacy_id) ELSE true END
     ORDER BY x.user_id, x.ord0
        ON CONFLICT DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit" ("run_id", "batch_id", "user_id", "source_entity", "legacy_id", "target_table", "target_id")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'leads', ins."legacy_id", 'leads', ins."id"
  FROM ins;

-- references -> public.references: one row per element of `references`, legacy id `id`
--   parent personas via `personaId` -> persona_id; parent missing: skip
--   duplicate legacy id within a user: error; missing legacy id: error
WITH doc AS (
    SELECT DISTINCT ON (s."user_id")
           s."user_id"::text AS user_id,
           s."state" AS doc
      FROM "public"."user_app_state" AS s
     WHERE s."user_id" IN (SELECT unnest("pgshred".batch_users()))
     ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
), src AS (
    SELECT doc.user_id,
           l0.elem,
           l0.ord AS ord0,
           CASE WHEN jsonb_typeof(l0.elem #> '{"personaId"}') IN ('string', 'number')
                 AND l0.elem #>> '{"personaId"}' <> ''
                THEN l0.elem #>> '{"personaId"}' END AS parent_legacy_id,
           CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'references', 'references', '#' || l0.ord)
                ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem, doc.user_id, 'references', 'id', '#' || l0.ord) END
            END AS legacy_id
      FROM doc
     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"references"}', doc.user_id, 'references', 'references'))
           WITH ORDINALITY AS l0(elem, ord)
), x AS (
    SELECT src.*, count(*) OVER (PARTITION BY src.user_id, src.legacy_id) AS copies
      FROM src
), ins AS (
    INSERT INTO "public"."references" (
        "id", "user_id", "legacy_id", "persona_id", "url", "title", "note", "added_on", "extra"
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'references', x.user_id, x.legacy_id),
           x.user_id,
           x.legacy_id,
           p.id,
           COALESCE(CASE WHEN x.elem #> '{"url"}' IS NULL OR jsonb_typeof(x.elem #> '{"url"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"url"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"url"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"url"}', 'text', x.user_id, 'references', x.legacy_id, 'url')::text
             END,
                    "pgshred".missing_required(x.user_id, 'references', x.legacy_id, 'url')::text), -- url
           CASE WHEN x.elem #> '{"title"}' IS NULL OR jsonb_typeof(x.elem #> '{"title"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"title"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"title"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"title"}', 'text', x.user_id, 'references', x.legacy_id, 'title')::text
             END, -- title
           CASE WHEN x.elem #> '{"note"}' IS NULL OR jsonb_typeof(x.elem #> '{"note"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"note"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"note"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"note"}', 'text', x.user_id, 'references', x.legacy_id, 'note')::text
             END, -- note
           CASE WHEN x.elem #> '{"addedOn"}' IS NULL OR jsonb_typeof(x.elem #> '{"addedOn"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"addedOn"}') = 'string' AND x.elem #> '{"addedOn"}' #>> '{}' ~ '^[ \t\n\r]*[0-9]{4}-[0-9]{2}-[0-9]{2}[ \t\n\r]*$'
                 THEN "pgshred".to_date(x.elem #> '{"addedOn"}', x.user_id, 'references', x.legacy_id, 'addedOn')
                 ELSE "pgshred".cast_failed(x.elem #> '{"addedOn"}', 'date', x.user_id, 'references', x.legacy_id, 'addedOn')::date
             END, -- added_on
           NULLIF(x.elem - ARRAY['addedOn', 'id', 'note', 'personaId', 'title', 'url']::text[], '{}'::jsonb)
      FROM x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "public"."personas" AS p
                          WHERE p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'personas', x.user_id, x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies > 1 THEN "pgshred".duplicate_id(x.user_id, 'references', x.legacy_id) ELSE true END
  AND p."id" IS NOT NULL
     ORDER BY x.user_id, x.ord0
        ON CONFLICT DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit" ("run_id", "batch_id", "user_id", "source_entity", "legacy_id", "target_table", "target_id")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'references', ins."legacy_id", 'references', ins."id"
  FROM ins;

-- inbox_items -> public.inbox_items: one row per element of `inboxItems`, legacy id `id`
--   parent accounts via `accountId` -> account_id; parent missing: null
--   duplicate legacy id within a user: error; missing legacy id: error
WITH doc AS (
    SELECT DISTINCT ON (s."user_id")
           s."user_id"::text AS user_id,
           s."state" AS doc
      FROM "public"."user_app_state" AS s
     WHERE s."user_id" IN (SELECT unnest("pgshred".batch_users()))
     ORDER BY s."user_id", s."updated_at" DESC, s.ctid DESC
), src AS (
    SELECT doc.user_id,
           l0.elem,
           l0.ord AS ord0,
           CASE WHEN jsonb_typeof(l0.elem #> '{"accountId"}') IN ('string', 'number')
                 AND l0.elem #>> '{"accountId"}' <> ''
                THEN l0.elem #>> '{"accountId"}' END AS parent_legacy_id,
           CASE WHEN jsonb_typeof(l0.elem) <> 'object'
                THEN "pgshred".not_an_object(l0.elem, doc.user_id, 'inbox_items', 'inboxItems', '#' || l0.ord)
                ELSE CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' ELSE "pgshred".missing_id(l0.elem, doc.user_id, 'inbox_items', 'id', '#' || l0.ord) END
            END AS legacy_id
      FROM doc
     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_at(doc.doc #> '{"inboxItems"}', doc.user_id, 'inbox_items', 'inboxItems'))
           WITH ORDINALITY AS l0(elem, ord)
), x AS (
    SELECT src.*, count(*) OVER (PARTITION BY src.user_id, src.legacy_id) AS copies
      FROM src
), ins AS (
    INSERT INTO "public"."inbox_items" (
        "id", "user_id", "legacy_id", "account_id", "sender", "subject", "received_at", "is_read", "payload", "extra"
    )
    SELECT "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'inbox_items', x.user_id, x.legacy_id),
           x.user_id,
           x.legacy_id,
           p.id,
           CASE WHEN x.elem #> '{"from"}' IS NULL OR jsonb_typeof(x.elem #> '{"from"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"from"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"from"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"from"}', 'text', x.user_id, 'inbox_items', x.legacy_id, 'from')::text
             END, -- sender
           CASE WHEN x.elem #> '{"subject"}' IS NULL OR jsonb_typeof(x.elem #> '{"subject"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"subject"}') IN ('string', 'number', 'boolean') THEN x.elem #> '{"subject"}' #>> '{}'
                 ELSE "pgshred".cast_failed(x.elem #> '{"subject"}', 'text', x.user_id, 'inbox_items', x.legacy_id, 'subject')::text
             END, -- subject
           COALESCE(CASE WHEN x.elem #> '{"receivedAt"}' IS NULL OR jsonb_typeof(x.elem #> '{"receivedAt"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"receivedAt"}') = 'string'
                  AND x.elem #> '{"receivedAt"}' #>> '{}' ~ '^[ \t\n\r]*[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?[ \t\n\r]*$'
                 THEN "pgshred".to_timestamptz(x.elem #> '{"receivedAt"}', x.user_id, 'inbox_items', x.legacy_id, 'receivedAt')
                 ELSE "pgshred".cast_failed(x.elem #> '{"receivedAt"}', 'timestamptz', x.user_id, 'inbox_items', x.legacy_id, 'receivedAt')::timestamptz
             END,
                    "pgshred".missing_required(x.user_id, 'inbox_items', x.legacy_id, 'receivedAt')::timestamptz), -- received_at
           COALESCE(CASE WHEN x.elem #> '{"read"}' IS NULL OR jsonb_typeof(x.elem #> '{"read"}') = 'null' THEN NULL
                 WHEN jsonb_typeof(x.elem #> '{"read"}') = 'boolean' THEN (x.elem #> '{"read"}' #>> '{}')::boolean
                 WHEN jsonb_typeof(x.elem #> '{"read"}') IN ('string', 'number')
                  AND lower(btrim(x.elem #> '{"read"}' #>> '{}', E' \t\n\r')) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n', 'on', 'off', '1', '0')
                 THEN lower(btrim(x.elem #> '{"read"}' #>> '{}', E' \t\n\r'))::boolean
                 ELSE "pgshred".cast_failed(x.elem #> '{"read"}', 'boolean', x.user_id, 'inbox_items', x.legacy_id, 'read')::boolean
             END,
                    'false'::boolean), -- is_read
           NULLIF(x.elem #> '{"payload"}', 'null'::jsonb), -- payload
           -- A reference to a parent that does not exist is kept in extra, not lost.
           NULLIF(x.elem - ARRAY['accountId', 'from', 'id', 'payload', 'read', 'receivedAt', 'subject']::text[]
                  || CASE WHEN p."id" IS NULL AND x.elem #> '{"accountId"}' IS NOT NULL
                          THEN "pgshred".assemble('{}'::jsonb, ARRAY['accountId'], ARRAY[x.elem #> '{"accountId"}'])
                          ELSE '{}'::jsonb END, '{}'::jsonb)
      FROM x
      -- One primary-key probe per row (LIMIT keeps the planner from hashing the whole parent table).
      LEFT JOIN LATERAL (SELECT p."id" FROM "public"."accounts" AS p
                          WHERE p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'accounts', x.user_id, x.parent_legacy_id) LIMIT 1) AS p ON true
WHERE CASE WHEN x.copies > 1 THEN "pgshred".duplicate_id(x.user_id, 'inbox_items', x.legacy_id) ELSE true END
     ORDER BY x.user_id, x.ord0
        ON CONFLICT DO NOTHING
    RETURNING "id", "user_id", "legacy_id"
)
INSERT INTO "pgshred"."migration_audit" ("run_id", "batch_id", "user_id", "source_entity", "legacy_id", "target_table", "target_id")
SELECT "pgshred".run_id(), "pgshred".batch_id(), ins."user_id", 'inbox_items', ins."legacy_id", 'inbox_items', ins."id"
  FROM ins;
