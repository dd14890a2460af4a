-- pgshred 0.1.0 -- plan user_app_state_distributed: each user's document rebuilt from the new tables.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- pgshred.user_app_state_distributed_reconstructed(user_id, state): every migrated row put back at its
-- JSON path (legacy id, parent reference, mapped columns as stored, the extra column's keys; an
-- id kept in extra as a JSON number wins over the text column),
-- children inside their parents, arrays in their source order (the position column; by legacy id
-- where a mapping declares that order does not matter). Dropped keys are absent by design.
-- `pgshred verify PLAN --roundtrip` compares it with the source user by user; it is also the
-- shape of a compatibility read for the application before cutover.
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f 06_reconstruct.sql
--   SELECT state FROM pgshred.user_app_state_distributed_reconstructed WHERE user_id = 'user-1';

CREATE OR REPLACE VIEW "pgshred"."user_app_state_distributed_reconstructed" AS
WITH
"e_inbox_items" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble(t."extra",
               ARRAY['id', 'accountId', 'from', 'subject', 'receivedAt', 'read', 'payload'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     CASE WHEN t."extra" #> '{"accountId"}' IS NOT NULL THEN NULL
                         ELSE to_jsonb((SELECT l."legacy_id" FROM "app_distributed"."accounts" AS l WHERE l."user_id" =
                         t."user_id" AND l."id" = t."account_id")) END,
                     to_jsonb(t."sender"),
                     to_jsonb(t."subject"),
                     to_jsonb(t."received_at"),
                     to_jsonb(t."is_read"),
                     to_jsonb(t."payload")
                    ]::jsonb[]) AS "elem"
      FROM "app_distributed"."inbox_items" AS t
),
"e_references" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble(t."extra",
               ARRAY['id', 'personaId', 'url', 'title', 'note', 'addedOn'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     CASE WHEN t."extra" #> '{"personaId"}' IS NOT NULL THEN NULL
                         ELSE to_jsonb((SELECT l."legacy_id" FROM "app_distributed"."personas" AS l WHERE l."user_id" =
                         t."user_id" AND l."id" = t."persona_id")) END,
                     to_jsonb(t."url"),
                     to_jsonb(t."title"),
                     to_jsonb(t."note"),
                     to_jsonb(t."added_on")
                    ]::jsonb[]) AS "elem"
      FROM "app_distributed"."references" AS t
),
"e_leads" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble(t."extra",
               ARRAY['id', 'accountId', 'name', 'email', 'score', 'stage', 'createdAt'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     CASE WHEN t."extra" #> '{"accountId"}' IS NOT NULL THEN NULL
                         ELSE to_jsonb((SELECT l."legacy_id" FROM "app_distributed"."accounts" AS l WHERE l."user_id" =
                         t."user_id" AND l."id" = t."account_id")) END,
                     to_jsonb(t."name"),
                     to_jsonb(t."email"),
                     to_jsonb(t."score"),
                     to_jsonb(t."stage"),
                     to_jsonb(t."source_created_at")
                    ]::jsonb[]) AS "elem"
      FROM "app_distributed"."leads" AS t
),
"e_accounts" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble(t."extra",
               ARRAY['id', 'personaId', 'platform', 'handle', 'followers', 'connected', 'connectedAt'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     CASE WHEN t."extra" #> '{"personaId"}' IS NOT NULL THEN NULL
                         ELSE to_jsonb((SELECT l."legacy_id" FROM "app_distributed"."personas" AS l WHERE l."user_id" =
                         t."user_id" AND l."id" = t."persona_id")) END,
                     to_jsonb(t."platform"),
                     to_jsonb(t."handle"),
                     to_jsonb(t."followers"),
                     to_jsonb(t."connected"),
                     to_jsonb(t."connected_at")
                    ]::jsonb[]) AS "elem"
      FROM "app_distributed"."accounts" AS t
),
"e_contents" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble(t."extra",
               ARRAY['id', 'personaId', 'title', 'body', 'status', 'tags', 'wordCount', 'publishedAt', 'createdAt'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     CASE WHEN t."extra" #> '{"personaId"}' IS NOT NULL THEN NULL
                         ELSE to_jsonb((SELECT l."legacy_id" FROM "app_distributed"."personas" AS l WHERE l."user_id" =
                         t."user_id" AND l."id" = t."persona_id")) END,
                     to_jsonb(t."title"),
                     to_jsonb(t."body"),
                     to_jsonb(t."status"),
                     to_jsonb(t."tags"),
                     to_jsonb(t."word_count"),
                     to_jsonb(t."published_at"),
                     to_jsonb(t."source_created_at")
                    ]::jsonb[]) AS "elem"
      FROM "app_distributed"."contents" AS t
),
"e_personas" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble(t."extra",
               ARRAY['id', 'orgId', 'name', 'tone', 'profile.bio', 'profile.avatarUrl', 'isDefault', 'createdAt'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     CASE WHEN t."extra" #> '{"orgId"}' IS NOT NULL THEN NULL
                         ELSE to_jsonb((SELECT l."legacy_id" FROM "app_distributed"."orgs" AS l WHERE l."user_id" =
                         t."user_id" AND l."id" = t."org_id")) END,
                     to_jsonb(t."name"),
                     to_jsonb(t."tone"),
                     to_jsonb(t."bio"),
                     to_jsonb(t."avatar_url"),
                     to_jsonb(t."is_default"),
                     to_jsonb(t."source_created_at")
                    ]::jsonb[]) AS "elem"
      FROM "app_distributed"."personas" AS t
),
"e_orgs" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble(t."extra",
               ARRAY['id', 'name', 'plan', 'seats', 'settings', 'createdAt'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     to_jsonb(t."name"),
                     to_jsonb(t."plan"),
                     to_jsonb(t."seats"),
                     to_jsonb(t."settings"),
                     to_jsonb(t."source_created_at")
                    ]::jsonb[]) AS "elem"
      FROM "app_distributed"."orgs" AS t
)
SELECT u."user_id",
       "pgshred".assemble('{}'::jsonb,
           ARRAY['orgs', 'personas', 'contents', 'accounts', 'leads', 'references', 'inboxItems']::text[],
           ARRAY[
               (SELECT jsonb_agg(x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_orgs" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_agg(x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_personas" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_agg(x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_contents" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_agg(x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_accounts" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_agg(x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_leads" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_agg(x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_references" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_agg(x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_inbox_items" AS x WHERE x."user_id" = u."user_id")
           ]::jsonb[]) AS "state"
  FROM (SELECT "user_id" FROM "app_distributed"."orgs" UNION SELECT "user_id" FROM "app_distributed"."personas" UNION
      SELECT "user_id" FROM "app_distributed"."contents" UNION SELECT "user_id" FROM "app_distributed"."accounts" UNION
      SELECT "user_id" FROM "app_distributed"."leads" UNION SELECT "user_id" FROM "app_distributed"."references" UNION
      SELECT "user_id" FROM "app_distributed"."inbox_items") AS u;

-- The view reads the tables with the rights of whoever queries it (PostgreSQL 15 and later), so
-- their row-level security applies: granted to the application, it shows each user only their own
-- document. Before 15 a view reads with its owner's rights, so it is kept from everyone else.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 150000 THEN
        EXECUTE 'ALTER VIEW "pgshred"."user_app_state_distributed_reconstructed" SET (security_invoker = true)';
    ELSE
        EXECUTE 'REVOKE ALL ON "pgshred"."user_app_state_distributed_reconstructed" FROM PUBLIC';
    END IF;
END
$$;
