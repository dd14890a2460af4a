-- pgshred 0.1.0 -- plan kanban: each user's document rebuilt from the new tables.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- pgshred.kanban_reconstructed(user_id, state): every migrated row put back at its
-- JSON path (legacy id, parent reference, mapped columns as stored, the extra column's keys; an
-- id kept in extra as a JSON number wins over the text column),
-- children inside their parents, arrays in their source order (the position column; by legacy id
-- where a mapping declares that order does not matter). Dropped keys are absent by design.
-- `pgshred verify PLAN --roundtrip` compares it with the source user by user; it is also the
-- shape of a compatibility read for the application before cutover.
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f 06_reconstruct.sql
--   SELECT state FROM pgshred.kanban_reconstructed WHERE user_id = 'user-1';

CREATE OR REPLACE VIEW "pgshred"."kanban_reconstructed" AS
WITH
"e_shortcuts" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."settings_id" AS parent_id,
           -- Scalar elements: the value column is the element (a JSON null stays one).
           coalesce(to_jsonb(t."keys"), 'null'::jsonb) AS "elem"
      FROM "kanban"."shortcuts" AS t
),
"e_settings" AS (
    SELECT t."user_id", t."id", t."legacy_id", NULL::integer AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['', 'theme', '["ui.density"]', 'locale', 'shortcuts'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."theme"),
                     to_jsonb(t."density"),
                     to_jsonb(t."locale"),
                     (SELECT jsonb_agg(c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_shortcuts" AS c WHERE c.parent_id = t."id")
                    ]::jsonb[]) AS "elem"
      FROM "kanban"."board_settings" AS t
),
"e_card_moves" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['id', 'cardId', 'memberId', 'type', 'at', 'data.from', 'data.to'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     -- cardId: the legacy id of the cards row, unless extra kept the value as written.
CASE WHEN t."extra" #> '{"cardId"}' IS NOT NULL THEN NULL
    ELSE to_jsonb((SELECT l."legacy_id" FROM "kanban"."cards" AS l WHERE l."user_id" = t."user_id"
    AND l."id" = t."card_id")) END,
                     -- memberId: the legacy id of the members row, unless extra kept the value as written.
CASE WHEN t."extra" #> '{"memberId"}' IS NOT NULL THEN NULL
    ELSE to_jsonb((SELECT l."legacy_id" FROM "kanban"."members" AS l WHERE l."user_id" = t."user_id"
    AND l."id" = t."member_id")) END,
                     to_jsonb(t."type"),
                     to_jsonb((extract(epoch FROM t."at") * 1000)::bigint),
                     to_jsonb(t."from_list"),
                     to_jsonb(t."to_list")
                    ]::jsonb[]) AS "elem"
      FROM "kanban"."card_moves" AS t
),
"e_comments" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['id', 'cardId', 'memberId', 'type', 'at', 'data.text'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     -- cardId: the legacy id of the cards row, unless extra kept the value as written.
CASE WHEN t."extra" #> '{"cardId"}' IS NOT NULL THEN NULL
    ELSE to_jsonb((SELECT l."legacy_id" FROM "kanban"."cards" AS l WHERE l."user_id" = t."user_id"
    AND l."id" = t."card_id")) END,
                     -- memberId: the legacy id of the members row, unless extra kept the value as written.
CASE WHEN t."extra" #> '{"memberId"}' IS NOT NULL THEN NULL
    ELSE to_jsonb((SELECT l."legacy_id" FROM "kanban"."members" AS l WHERE l."user_id" = t."user_id"
    AND l."id" = t."author_id")) END,
                     to_jsonb(t."type"),
                     to_jsonb((extract(epoch FROM t."at") * 1000)::bigint),
                     to_jsonb(t."body")
                    ]::jsonb[]) AS "elem"
      FROM "kanban"."card_comments" AS t
),
"e_activity" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['id', 'cardId', 'memberId', 'type', 'at', 'data'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     -- cardId: the legacy id of the cards row, unless extra kept the value as written.
CASE WHEN t."extra" #> '{"cardId"}' IS NOT NULL THEN NULL
    ELSE to_jsonb((SELECT l."legacy_id" FROM "kanban"."cards" AS l WHERE l."user_id" = t."user_id"
    AND l."id" = t."card_id")) END,
                     -- memberId: the legacy id of the members row, unless extra kept the value as written.
CASE WHEN t."extra" #> '{"memberId"}' IS NOT NULL THEN NULL
    ELSE to_jsonb((SELECT l."legacy_id" FROM "kanban"."members" AS l WHERE l."user_id" = t."user_id"
    AND l."id" = t."member_id")) END,
                     to_jsonb(t."type"),
                     to_jsonb((extract(epoch FROM t."at") * 1000)::bigint),
                     to_jsonb(t."data")
                    ]::jsonb[]) AS "elem"
      FROM "kanban"."activity" AS t
),
"e_card_members" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."card_id" AS parent_id,
           -- Scalar elements: the value column is the element (a JSON null stays one).
           coalesce(to_jsonb(t."member_key"), 'null'::jsonb) AS "elem"
      FROM "kanban"."card_members" AS t
),
"e_members" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['', 'fullName', 'initials', 'avatar'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."full_name"),
                     to_jsonb(t."initials"),
                     to_jsonb(t."avatar")
                    ]::jsonb[]) AS "elem"
      FROM "kanban"."members" AS t
),
"e_checklist" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."card_id" AS parent_id,
           "pgshred".assemble_keys(t."extra",
               ARRAY['id', 'text', 'done'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id"::numeric) END,
                     to_jsonb(t."text"),
                     to_jsonb(t."done")
                    ]::jsonb[]) AS "elem"
      FROM "kanban"."checklist_items" AS t
),
"e_cards" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['', 'listId', 'title', 'desc', 'due', 'start', 'created', 'labelIds', 'badges.votes', 'checklist',
                   'idMembers'],
               ARRAY[NULL::jsonb,
                     CASE WHEN t."extra" #> '{"listId"}' IS NOT NULL THEN NULL
                         ELSE to_jsonb((SELECT l."legacy_id" FROM "kanban"."lists" AS l WHERE l."user_id" = t."user_id"
                         AND l."id" = t."list_id")) END,
                     to_jsonb(t."title"),
                     to_jsonb(t."body"),
                     to_jsonb(t."due"),
                     to_jsonb(t."start_text"),
                     to_jsonb((extract(epoch FROM t."opened_at") * 1000)::bigint),
                     to_jsonb(t."label_ids"),
                     to_jsonb(t."votes"),
                     (SELECT jsonb_agg(c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_checklist" AS c WHERE c.parent_id = t."id"),
                     (SELECT jsonb_agg(c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_card_members" AS c WHERE c.parent_id = t."id")
                    ]::jsonb[]) AS "elem"
      FROM "kanban"."cards" AS t
),
"e_labels" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord", t."list_id" AS parent_id,
           "pgshred".assemble_keys(t."extra",
               ARRAY['', 'name', 'color'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."name"),
                     to_jsonb(t."color")
                    ]::jsonb[]) AS "elem"
      FROM "kanban"."labels" AS t
),
"e_lists" AS (
    SELECT t."user_id", t."id", t."legacy_id", t."position" AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['id', 'name', 'closed', '["wip.limit"]', 'labels'],
               ARRAY[CASE WHEN t."extra" #> '{"id"}' IS NOT NULL THEN NULL ELSE to_jsonb(t."legacy_id") END,
                     to_jsonb(t."name"),
                     to_jsonb(t."closed"),
                     to_jsonb(t."wip_limit"),
                     (SELECT jsonb_object_agg(c."legacy_id", c."elem" ORDER BY c."ord",
                         c."legacy_id") FROM "e_labels" AS c WHERE c.parent_id = t."id")
                    ]::jsonb[]) AS "elem"
      FROM "kanban"."lists" AS t
),
"e_prefs" AS (
    SELECT t."user_id", t."id", t."legacy_id", NULL::integer AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['', 'background', '["card.covers"]', 'permissionLevel'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."background"),
                     to_jsonb(t."card_covers"),
                     to_jsonb(t."permission_level")
                    ]::jsonb[]) AS "elem"
      FROM "kanban"."board_prefs" AS t
),
"e_board" AS (
    SELECT t."user_id", t."id", t."legacy_id", NULL::integer AS "ord",
           "pgshred".assemble_keys(t."extra",
               ARRAY['', 'title', 'version', 'createdAt'],
               ARRAY[NULL::jsonb,
                     to_jsonb(t."title"),
                     to_jsonb(t."version"),
                     to_jsonb((extract(epoch FROM t."made_at") * 1000)::bigint)
                    ]::jsonb[]) AS "elem"
      FROM "kanban"."boards" AS t
)
SELECT u."user_id",
       "pgshred".assemble_keys(coalesce((SELECT r."elem" FROM "e_board" AS r WHERE r."user_id" = u."user_id"),
           '{}'::jsonb),
           ARRAY['prefs', 'lists', 'cards', 'members', 'activity', 'settings']::text[],
           ARRAY[
               (SELECT x."elem" FROM "e_prefs" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_agg(x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_lists" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_object_agg(x."legacy_id", x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_cards" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_object_agg(x."legacy_id", x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM "e_members" AS x WHERE x."user_id" = u."user_id"),
               (SELECT jsonb_agg(x."elem" ORDER BY x."ord",
                   x."legacy_id") FROM (SELECT * FROM "e_activity" UNION ALL SELECT * FROM "e_comments" UNION ALL SELECT
                   * FROM "e_card_moves") AS x WHERE x."user_id" = u."user_id"),
               (SELECT x."elem" FROM "e_settings" AS x WHERE x."user_id" = u."user_id")
           ]::jsonb[]) AS "state"
  FROM (SELECT "user_id" FROM "kanban"."boards" UNION SELECT "user_id" FROM "kanban"."board_prefs" UNION SELECT
      "user_id" FROM "kanban"."lists" UNION SELECT "user_id" FROM "kanban"."labels" UNION SELECT "user_id" FROM
      "kanban"."cards" UNION SELECT "user_id" FROM "kanban"."checklist_items" UNION SELECT "user_id" FROM
      "kanban"."members" UNION SELECT "user_id" FROM "kanban"."card_members" UNION SELECT "user_id" FROM
      "kanban"."activity" UNION SELECT "user_id" FROM "kanban"."card_comments" UNION SELECT "user_id" FROM
      "kanban"."card_moves" UNION SELECT "user_id" FROM "kanban"."board_settings" UNION SELECT "user_id" FROM
      "kanban"."shortcuts") AS u;

-- The view reads the tables with the rights of whoever queries it (PostgreSQL 15 and later), so
-- their row-level security applies: granted to the application, it shows each user only their own
-- document. Before 15 a view reads with its owner's rights, so it is kept from everyone else.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 150000 THEN
        EXECUTE 'ALTER VIEW "pgshred"."kanban_reconstructed" SET (security_invoker = true)';
    ELSE
        EXECUTE 'REVOKE ALL ON "pgshred"."kanban_reconstructed" FROM PUBLIC';
    END IF;
END
$$;
