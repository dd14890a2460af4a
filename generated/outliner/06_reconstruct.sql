-- pgshred 0.1.0 -- plan outliner: each user's document rebuilt from the new tables.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- pgshred.outliner_reconstructed(user_id, state): every migrated row put back at its
-- JSON path (legacy id, parent reference, mapped columns as stored, the extra column's keys; an
-- id kept in extra as a JSON number wins over the text column),
-- children inside their parents, arrays in their source order (the position column; by legacy id
-- where a mapping declares that order does not matter). Dropped keys are absent by design.
-- `pgshred verify PLAN --roundtrip` compares it with the source user by user; it is also the
-- shape of a compatibility read for the application before cutover.
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f 06_reconstruct.sql
--   SELECT state FROM pgshred.outliner_reconstructed WHERE user_id = 'user-1';

CREATE OR REPLACE VIEW "pgshred"."outliner_reconstructed" AS
WITH
"e_daily_notes" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           -- Scalar elements: the value column is the element (a JSON null stays one).
           coalesce(to_jsonb(t."page_uid"), 'null'::jsonb) AS "elem"
      FROM "outliner"."daily_notes" AS t
),
"e_block_refs" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."block_id" AS parent_id,
           -- Scalar elements: the value column is the element (a JSON null stays one).
           coalesce(to_jsonb(t."ref_uid"), 'null'::jsonb) AS "elem"
      FROM "outliner"."block_refs" AS t
),
"e_block_props" AS (
    SELECT t."user_id", t."id", t."legacy_id", NULL::integer AS "ord", t."block_id" AS parent_id,
           "pgshred".assemble(t."extra",
               ARRAY['', 'status'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."status")
                    ]::jsonb[]) AS "elem"
      FROM "outliner"."block_props" AS t
),
-- Read twice below: NOT MATERIALIZED, so a query for one user reads only that user's rows.
"f_blocks" AS NOT MATERIALIZED (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."page_id" AS parent_id,
        t."parent_block_id" AS "up", t."depth" AS "depth",
           "pgshred".assemble(t."extra",
               ARRAY['uid', 'embed', 'embed', 'string', 'heading', 'open', 'created', 'props', 'refs'],
               ARRAY[CASE WHEN t."extra" #> '{"uid"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     -- embed: the legacy id of the blocks row, unless extra kept the value as written.
CASE WHEN t."extra" #> '{"embed"}' IS NOT NULL THEN NULL
    ELSE to_jsonb((SELECT l."legacy_id" FROM "outliner"."blocks" AS l WHERE l."user_id" = t."user_id"
    AND l."id" = t."embed_block_id")) END,
                     -- embed: the legacy id of the pages row, unless extra kept the value as written.
CASE WHEN t."extra" #> '{"embed"}' IS NOT NULL THEN NULL
    ELSE to_jsonb((SELECT l."legacy_id" FROM "outliner"."pages" AS l WHERE l."user_id" = t."user_id"
    AND l."id" = t."embed_page_id")) END,
                     to_jsonb(t."text"),
                     to_jsonb(t."heading"),
                     to_jsonb(t."open"),
                     to_jsonb((extract(epoch FROM t."written_at") * 1000)::bigint),
                     (SELECT c."elem" FROM "e_block_props" AS c WHERE c.parent_id = t."id"),
                     (SELECT jsonb_agg(c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_block_refs" AS c WHERE c.parent_id = t."id")
                    ]::jsonb[]) AS "elem"
      FROM "outliner"."blocks" AS t
),
"e_blocks" AS (
    -- The trees: each element's children, in order, under `children`; the elements at depth 1 with theirs.
    SELECT f."user_id", f."id", f."legacy_id", f."ord", f.parent_id, n."tops" -> f."id"::text AS "elem"
      FROM "f_blocks" AS f
      -- Nested per parent element, so reading one parent or one user nests only its trees.
      JOIN (SELECT g."user_id", g.parent_id,
                   "pgshred".tree_nest(jsonb_agg(jsonb_build_object('id', g."id", 'up', g."up", 'depth', g."depth",
                       'ord', g."ord", 'legacy', g."legacy_id", 'elem', g."elem")),
                                     '{"children"}') AS "tops"
              FROM "f_blocks" AS g
             GROUP BY g."user_id", g.parent_id) AS n
        ON n."user_id" = f."user_id" AND n.parent_id = f.parent_id
     WHERE f."up" IS NULL
),
"e_page_tags" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."page_id" AS parent_id,
           -- Scalar elements: the value column is the element (a JSON null stays one).
           coalesce(to_jsonb(t."tag"), 'null'::jsonb) AS "elem"
      FROM "outliner"."page_tags" AS t
),
"e_pages" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble(t."extra",
               ARRAY['', 'title', 'created', 'tags', 'blocks'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."title"),
                     to_jsonb((extract(epoch FROM t."written_at") * 1000)::bigint),
                     (SELECT jsonb_agg(c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_page_tags" AS c WHERE c.parent_id = t."id"),
                     (SELECT jsonb_agg(c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_blocks" AS c WHERE c.parent_id = t."id")
                    ]::jsonb[]) AS "elem"
      FROM "outliner"."pages" AS t
),
"e_graph" AS (
    SELECT t."user_id", t."id", t."legacy_id", NULL::integer AS "ord",
           "pgshred".assemble(t."extra",
               ARRAY['', 'name', 'version', 'config'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."name"),
                     to_jsonb(t."version"),
                     to_jsonb(t."config"::text)
                    ]::jsonb[]) AS "elem"
      FROM "outliner"."graphs" AS t
),
"e_account" AS (
    SELECT t."user_id", t."id", t."legacy_id", NULL::integer AS "ord",
           "pgshred".assemble(t."extra",
               ARRAY[''],
               ARRAY[NULL::jsonb
                    ]::jsonb[]) AS "elem"
      FROM "outliner"."accounts" AS t
)
SELECT u."user_id",
       "pgshred".assemble(coalesce((SELECT r."elem" FROM "e_account" AS r WHERE r."user_id" = u."user_id"),
           '{}'::jsonb),
           ARRAY['graph', 'pages', 'dailyNotes']::text[],
           ARRAY[
               (SELECT x."elem" FROM "e_graph" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_object_agg(x."legacy_id", x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_pages" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_object_agg(x."legacy_id", x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_daily_notes" AS x WHERE x."user_id" = u."user_id")
           ]::jsonb[]) AS "state"
  FROM (SELECT "user_id" FROM "outliner"."accounts" UNION SELECT "user_id" FROM "outliner"."graphs" UNION SELECT
      "user_id" FROM "outliner"."pages" UNION SELECT "user_id" FROM "outliner"."page_tags" UNION SELECT "user_id" FROM
      "outliner"."blocks" UNION SELECT "user_id" FROM "outliner"."block_props" UNION SELECT "user_id" FROM
      "outliner"."block_refs" UNION SELECT "user_id" FROM "outliner"."daily_notes") AS u;

-- The view reads the tables with the rights of whoever queries it (PostgreSQL 15 and later), so
-- their row-level security applies: granted to the application, it shows each user only their own
-- document. Before 15 a view reads with its owner's rights, so it is kept from everyone else.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 150000 THEN
        EXECUTE 'ALTER VIEW "pgshred"."outliner_reconstructed" SET (security_invoker = true)';
    ELSE
        EXECUTE 'REVOKE ALL ON "pgshred"."outliner_reconstructed" FROM PUBLIC';
    END IF;
END
$$;
