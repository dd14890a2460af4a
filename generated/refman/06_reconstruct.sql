-- pgshred 0.1.0 -- plan refman: each user's document rebuilt from the new tables.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- pgshred.refman_reconstructed(user_id, state): every migrated row put back at its
-- JSON path (legacy id, parent reference, mapped columns as stored, the extra column's keys; an
-- id kept in extra as a JSON number wins over the text column),
-- children inside their parents, arrays in their source order (the position column; by legacy id
-- where a mapping declares that order does not matter). Dropped keys are absent by design.
-- `pgshred verify PLAN --roundtrip` compares it with the source user by user; it is also the
-- shape of a compatibility read for the application before cutover.
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f 06_reconstruct.sql
--   SELECT state FROM pgshred.refman_reconstructed WHERE user_id = 'user-1';

CREATE OR REPLACE VIEW "pgshred"."refman_reconstructed" AS
WITH
"e_prefs" AS (
    SELECT t."user_id", t."id", t."legacy_id", NULL::integer AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['', '["citation.style"]', 'sync.enabled', '["export.format"]'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."citation_style"),
                     to_jsonb(t."sync_enabled"),
                     to_jsonb(t."export_format")
                    ]::jsonb[]) AS "elem"
      FROM "refman"."library_prefs" AS t
),
"e_searches" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['', 'name', 'conditions'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."name"),
                     to_jsonb(t."conditions")
                    ]::jsonb[]) AS "elem"
      FROM "refman"."saved_searches" AS t
),
"e_attachments" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."item_id" AS parent_id,
           "pgshred".assemble_keys(t."extra",
               ARRAY['', 'filename', '["size.bytes"]', 'md5'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."filename"),
                     to_jsonb(t."size_bytes"),
                     to_jsonb(t."md5")
                    ]::jsonb[]) AS "elem"
      FROM "refman"."attachments" AS t
),
"e_notes" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."item_id" AS parent_id,
           "pgshred".assemble_keys(t."extra",
               ARRAY['id', 'html'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id"::numeric) END,
                     to_jsonb(t."html")
                    ]::jsonb[]) AS "elem"
      FROM "refman"."notes" AS t
),
"e_tags" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."item_id" AS parent_id,
           "pgshred".assemble_keys(t."extra",
               ARRAY['id', 'tag', 'type'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL WHEN t."legacy_id" LIKE '#%' THEN NULL
                   ELSE to_jsonb(t."legacy_id") END,
                     -- tag: the legacy id of the tag_names row, unless extra kept the value as written.
CASE WHEN t."extra" #> '{"tag"}' IS NOT NULL THEN NULL
    ELSE to_jsonb((SELECT l."legacy_id" FROM "refman"."tags" AS l WHERE l."user_id" = t."user_id"
    AND l."id" = t."tag_id")) END,
                     to_jsonb(t."kind")
                    ]::jsonb[]) AS "elem"
      FROM "refman"."item_tags" AS t
),
"e_creators" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."item_id" AS parent_id,
           "pgshred".assemble_keys(t."extra",
               ARRAY['id', 'creatorType', 'firstName', 'lastName', 'name'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL WHEN t."legacy_id" LIKE '#%' THEN NULL
                   ELSE to_jsonb(t."legacy_id") END,
                     to_jsonb(t."role"),
                     to_jsonb(t."first_name"),
                     to_jsonb(t."last_name"),
                     to_jsonb(t."name")
                    ]::jsonb[]) AS "elem"
      FROM "refman"."creators" AS t
),
"e_items" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['', 'itemType', 'title', 'date', 'dateAdded', 'DOI', 'url', 'pages', 'volume', 'extra', 'creators',
                   'tags', 'notes', 'attachments'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."item_type"),
                     to_jsonb(t."title"),
                     to_jsonb(t."date_text"),
                     to_jsonb(t."added_at"),
                     to_jsonb(t."doi"),
                     to_jsonb(t."url"),
                     to_jsonb(t."pages"),
                     to_jsonb(t."volume"),
                     to_jsonb(t."note_field"),
                     (SELECT jsonb_agg(c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_creators" AS c WHERE c.parent_id = t."id"),
                     (SELECT jsonb_agg(c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_tags" AS c WHERE c.parent_id = t."id"),
                     (SELECT jsonb_agg(c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_notes" AS c WHERE c.parent_id = t."id"),
                     (SELECT jsonb_object_agg(c."legacy_id", c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_attachments" AS c WHERE c.parent_id = t."id")
                    ]::jsonb[]) AS "elem"
      FROM "refman"."items" AS t
),
"e_collection_items" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."collection_id" AS parent_id,
           -- Scalar elements: the value column is the element (a JSON null stays one).
           coalesce(to_jsonb(t."item_key"), 'null'::jsonb) AS "elem"
      FROM "refman"."collection_items" AS t
),
"e_collections" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['key', 'parent', 'name', 'items'],
               ARRAY[CASE WHEN t."extra" #> '{"key"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     -- parent: the legacy id of the collections row, unless extra kept the value as written.
CASE WHEN t."extra" #> '{"parent"}' IS NOT NULL THEN NULL
    ELSE to_jsonb((SELECT l."legacy_id" FROM "refman"."collections" AS l WHERE l."user_id" = t."user_id"
    AND l."id" = t."parent_id")) END,
                     to_jsonb(t."name"),
                     (SELECT jsonb_agg(c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_collection_items" AS c WHERE c.parent_id = t."id")
                    ]::jsonb[]) AS "elem"
      FROM "refman"."collections" AS t
),
"e_info" AS (
    SELECT t."user_id", t."id", t."legacy_id", NULL::integer AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['', 'name', 'style', 'locale'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."name"),
                     to_jsonb(t."style"),
                     to_jsonb(t."locale")
                    ]::jsonb[]) AS "elem"
      FROM "refman"."library_info" AS t
),
"e_library" AS (
    SELECT t."user_id", t."id", t."legacy_id", NULL::integer AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['', 'version', 'lastSync'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."version"),
                     to_jsonb(extract(epoch FROM t."last_sync")::bigint)
                    ]::jsonb[]) AS "elem"
      FROM "refman"."libraries" AS t
)
SELECT u."user_id",
       "pgshred".assemble_keys(coalesce((SELECT r."elem" FROM "e_library" AS r WHERE r."user_id" = u."user_id"),
           '{}'::jsonb),
           ARRAY['library', 'collections', 'items', 'searches', 'prefs']::text[],
           ARRAY[
               (SELECT x."elem" FROM "e_info" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_agg(x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_collections" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_object_agg(x."legacy_id", x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_items" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_object_agg(x."legacy_id", x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_searches" AS x WHERE x."user_id" = u."user_id"),
               (SELECT x."elem" FROM "e_prefs" AS x WHERE x."user_id" = u."user_id")
           ]::jsonb[]) AS "state"
  FROM (SELECT "user_id" FROM "refman"."libraries" UNION SELECT "user_id" FROM "refman"."library_info" UNION SELECT
      "user_id" FROM "refman"."collections" UNION SELECT "user_id" FROM "refman"."collection_items" UNION SELECT
      "user_id" FROM "refman"."items" UNION SELECT "user_id" FROM "refman"."creators" UNION SELECT "user_id" FROM
      "refman"."tags" UNION SELECT "user_id" FROM "refman"."item_tags" UNION SELECT "user_id" FROM "refman"."notes"
      UNION SELECT "user_id" FROM "refman"."attachments" UNION SELECT "user_id" FROM "refman"."saved_searches" UNION
      SELECT "user_id" FROM "refman"."library_prefs") AS u;

-- The view reads the tables with the rights of whoever queries it (PostgreSQL 15 and later), so
-- their row-level security applies: granted to the application, it shows each user only their own
-- document. Before 15 a view reads with its owner's rights, so it is kept from everyone else.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 150000 THEN
        EXECUTE 'ALTER VIEW "pgshred"."refman_reconstructed" SET (security_invoker = true)';
    ELSE
        EXECUTE 'REVOKE ALL ON "pgshred"."refman_reconstructed" FROM PUBLIC';
    END IF;
END
$$;
