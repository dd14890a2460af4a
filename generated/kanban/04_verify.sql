-- pgshred 0.1.0 -- plan kanban: verification. Returns ONLY mismatches: per user and
-- entity, the rows the document should produce (after the mapping's duplicate and orphan policies)
-- and the rows present. No rows returned means every user in scope is complete.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- Run it with jit off (`SET LOCAL jit = off`, as pgshred does): compiling its nested expressions
-- can take longer than the query.
-- Scope: the current batch when pgshred.batch_users is set (as during `pgshred apply`), otherwise
-- every user of the source table, and every user with rows in the target tables:
--   psql "$DATABASE_URL" -f 04_verify.sql
--   BEGIN; SELECT set_config('pgshred.batch_users', '{user-1,user-2}', true); \i 04_verify.sql
WITH doc AS (
    -- `#> '{}'` is the document itself, decompressed once here rather than once per entity below.
    SELECT d.user_id, d.doc #> '{}' AS doc
      FROM (SELECT DISTINCT ON (s.user_id) s.user_id, s.doc
              FROM (-- Everyone when no scope is set, else the scope's users through the index: two
                    -- branches, one of them empty (an OR of the two would scan the whole table).
                    SELECT s."user_id"::text AS user_id, s."state" AS doc,
                           s."updated_at" AS version, s.ctid AS position
                      FROM "public"."user_app_state" AS s
                     WHERE (SELECT "pgshred".scope_users()) IS NULL
                    UNION ALL
                    SELECT s."user_id"::text, s."state",
                           s."updated_at", s.ctid
                      FROM "public"."user_app_state" AS s
                     WHERE s."user_id" = ANY ("pgshred".scope_users())) AS s
             ORDER BY s.user_id, s.version DESC, s.position DESC) AS d
), expected AS (
    SELECT k.user_id, 'board'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{}') IN ('string', 'number') AND l0.elem #>> '{}' <> ''
                               THEN l0.elem #>> '{}' ELSE '#' || l0.ord END AS legacy_id
                      FROM doc
                     -- The document root: the document itself is the one element (when it is an object).
                     CROSS JOIN LATERAL (SELECT doc.doc AS elem,
                         1::bigint AS ord WHERE jsonb_typeof(doc.doc) = 'object') AS l0) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'prefs'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{}') IN ('string', 'number') AND l0.elem #>> '{}' <> ''
                               THEN l0.elem #>> '{}' ELSE '#' || l0.ord END AS legacy_id
                      FROM doc
                     -- A single object: the one element of its parent (when it is an object).
                     CROSS JOIN LATERAL (SELECT o.elem, 1::bigint AS ord
                                           FROM (SELECT doc.doc #> '{"prefs"}' AS elem) AS o
                                          WHERE jsonb_typeof(o.elem) <> 'null') AS l0) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'lists'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"lists"}'))
                           WITH ORDINALITY AS l0(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'labels'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.id_key) x.user_id, x.id_key, x.parent_legacy_id
              FROM (SELECT doc.user_id,
                           l1.elem,
                           l0.ord AS ord0,
                           l1.ord AS ord1,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS parent_legacy_id,
                           l1.key AS legacy_id,
                           -- Legacy ids are unique per parent: the key of a row is its parent's legacy id (its
                           -- length first, so no two pairs read alike) and its own.
                           pg_catalog.length(CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END)::text || ':' || CASE
                               WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END || ':' || l1.key AS id_key
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"lists"}'))
                           WITH ORDINALITY AS l0(elem, ord)
                     -- An object keyed by id: each member an element, its key the legacy id.
                     CROSS JOIN LATERAL jsonb_each("pgshred".object_or_empty(l0.elem #> '{"labels"}'))
                           WITH ORDINALITY AS l1(key, elem, ord)) AS x
             WHERE x.id_key IS NOT NULL
             ORDER BY x.user_id, x.id_key, x.ord0, x.ord1) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'cards'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id, x.parent_legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           doc.doc #>> '{"settings","locale"}' AS dv3, -- decides how column 3 is read
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"listId"}') IN ('string', 'number')
                                 AND l0.elem #>> '{"listId"}' <> ''
                                THEN l0.elem #>> '{"listId"}' END AS parent_legacy_id,
                           l0.key AS legacy_id
                      FROM doc
                     -- An object keyed by id: each member an element, its key the legacy id.
                     CROSS JOIN LATERAL jsonb_each("pgshred".object_or_empty(doc.doc #> '{"cards"}'))
                           WITH ORDINALITY AS l0(key, elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'checklist'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.id_key) x.user_id, x.id_key, x.parent_legacy_id
              FROM (SELECT doc.user_id,
                           l1.elem,
                           l0.ord AS ord0,
                           l1.ord AS ord1,
                           l0.key AS parent_legacy_id,
                           CASE WHEN jsonb_typeof(l1.elem #> '{"id"}') IN ('string', 'number')
                               AND l1.elem #>> '{"id"}' <> '' THEN l1.elem #>> '{"id"}' END AS legacy_id,
                           -- Legacy ids are unique per parent: the key of a row is its parent's legacy id (its
                           -- length first, so no two pairs read alike) and its own.
                           pg_catalog.length(l0.key)::text || ':' || l0.key || ':' || CASE
                               WHEN jsonb_typeof(l1.elem #> '{"id"}') IN ('string', 'number')
                               AND l1.elem #>> '{"id"}' <> '' THEN l1.elem #>> '{"id"}' END AS id_key
                      FROM doc
                     -- An object keyed by id: each member an element, its key the legacy id.
                     CROSS JOIN LATERAL jsonb_each("pgshred".object_or_empty(doc.doc #> '{"cards"}'))
                           WITH ORDINALITY AS l0(key, elem, ord)
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(l0.elem #> '{"checklist"}'))
                           WITH ORDINALITY AS l1(elem, ord)) AS x
             WHERE x.id_key IS NOT NULL
             ORDER BY x.user_id, x.id_key, x.ord0, x.ord1) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'members'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           l0.key AS legacy_id
                      FROM doc
                     -- An object keyed by id: each member an element, its key the legacy id.
                     CROSS JOIN LATERAL jsonb_each("pgshred".object_or_empty(doc.doc #> '{"members"}'))
                           WITH ORDINALITY AS l0(key, elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'card_members'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id, x.parent_legacy_id
              FROM (SELECT doc.user_id,
                           l1.elem,
                           l0.ord AS ord0,
                           l1.ord AS ord1,
                           l0.key AS parent_legacy_id,
                           '#' || l0.ord || '.' || l1.ord AS legacy_id
                      FROM doc
                     -- An object keyed by id: each member an element, its key the legacy id.
                     CROSS JOIN LATERAL jsonb_each("pgshred".object_or_empty(doc.doc #> '{"cards"}'))
                           WITH ORDINALITY AS l0(key, elem, ord)
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(l0.elem #> '{"idMembers"}'))
                           WITH ORDINALITY AS l1(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0, x.ord1) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'activity'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"activity"}'))
                           WITH ORDINALITY AS l0(elem, ord)
                     -- One array of many kinds: activity takes no named kind and every kind no other entity takes.
                     WHERE CASE                 WHEN CASE WHEN jsonb_typeof(l0.elem #> '{"type"}') IN ('string',
                         'number', 'boolean') THEN l0.elem #>> '{"type"}' END IN ('commentCard', 'moveCard') THEN false
                                ELSE true END) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'comments'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"activity"}'))
                           WITH ORDINALITY AS l0(elem, ord)
                     -- One array of many kinds: comments takes `commentCard`.
                     WHERE CASE WHEN CASE WHEN jsonb_typeof(l0.elem #> '{"type"}') IN ('string', 'number', 'boolean')
                         THEN l0.elem #>> '{"type"}' END IN ('commentCard') THEN true
                                WHEN CASE WHEN jsonb_typeof(l0.elem #> '{"type"}') IN ('string', 'number', 'boolean')
                                    THEN l0.elem #>> '{"type"}' END IN ('moveCard') THEN false
                                ELSE false END) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'card_moves'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"activity"}'))
                           WITH ORDINALITY AS l0(elem, ord)
                     -- One array of many kinds: card_moves takes `moveCard`.
                     WHERE CASE WHEN CASE WHEN jsonb_typeof(l0.elem #> '{"type"}') IN ('string', 'number', 'boolean')
                         THEN l0.elem #>> '{"type"}' END IN ('moveCard') THEN true
                                WHEN CASE WHEN jsonb_typeof(l0.elem #> '{"type"}') IN ('string', 'number', 'boolean')
                                    THEN l0.elem #>> '{"type"}' END IN ('commentCard') THEN false
                                ELSE false END) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'settings'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{}') IN ('string', 'number') AND l0.elem #>> '{}' <> ''
                               THEN l0.elem #>> '{}' ELSE '#' || l0.ord END AS legacy_id
                      FROM doc
                     -- A single object: the one element of its parent (when it is an object).
                     CROSS JOIN LATERAL (SELECT o.elem, 1::bigint AS ord
                                           FROM (SELECT doc.doc #> '{"settings"}' AS elem) AS o
                                          WHERE jsonb_typeof(o.elem) <> 'null') AS l0) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'shortcuts'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id, x.parent_legacy_id
              FROM (SELECT doc.user_id,
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
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(l0.elem #> '{"shortcuts"}'))
                           WITH ORDINALITY AS l1(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0, x.ord1) AS k
     GROUP BY k.user_id
), present AS (
    -- Two branches, one of them empty: without a scope, every row grouped by user; with one, each
    -- scope user's rows counted through the user_id index (a join with the scope's users would be
    -- planned as a scan of the whole table while it is small, and grow with it).
    SELECT t."user_id", 'board'::text AS entity, count(*) AS n
      FROM "kanban"."boards" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'board'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."boards" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'prefs'::text AS entity, count(*) AS n
      FROM "kanban"."board_prefs" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'prefs'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."board_prefs" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'lists'::text AS entity, count(*) AS n
      FROM "kanban"."lists" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'lists'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."lists" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'labels'::text AS entity, count(*) AS n
      FROM "kanban"."labels" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'labels'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."labels" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'cards'::text AS entity, count(*) AS n
      FROM "kanban"."cards" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'cards'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."cards" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'checklist'::text AS entity, count(*) AS n
      FROM "kanban"."checklist_items" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'checklist'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."checklist_items" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'members'::text AS entity, count(*) AS n
      FROM "kanban"."members" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'members'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."members" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'card_members'::text AS entity, count(*) AS n
      FROM "kanban"."card_members" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'card_members'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."card_members" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'activity'::text AS entity, count(*) AS n
      FROM "kanban"."activity" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'activity'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."activity" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'comments'::text AS entity, count(*) AS n
      FROM "kanban"."card_comments" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'comments'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."card_comments" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'card_moves'::text AS entity, count(*) AS n
      FROM "kanban"."card_moves" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'card_moves'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."card_moves" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'settings'::text AS entity, count(*) AS n
      FROM "kanban"."board_settings" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'settings'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."board_settings" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
    UNION ALL
    SELECT t."user_id", 'shortcuts'::text AS entity, count(*) AS n
      FROM "kanban"."shortcuts" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT u.user_id, 'shortcuts'::text AS entity, c.n
      FROM unnest("pgshred".scope_users()) AS u(user_id)
     CROSS JOIN LATERAL (SELECT count(*) AS n FROM "kanban"."shortcuts" AS t
                          WHERE t."user_id" = u.user_id) AS c
     WHERE c.n > 0
), written AS (
    -- A batch of `apply --bulk` sets pgshred.batch_written to the rows each entity's COPY wrote, as
    -- the server counted them ({"entity": rows, ...}): its tables held no row of its users before
    -- it, and their user_id indexes are built after the last batch, so the batch is checked per
    -- entity against those counts instead of per user against the tables.
    SELECT w.key AS entity, w.value::bigint AS n
      FROM jsonb_each_text(NULLIF(current_setting('pgshred.batch_written', true), '')::jsonb) AS w
)
SELECT user_id, entity, coalesce(e.n, 0) AS expected, coalesce(p.n, 0) AS present
  FROM expected AS e
  FULL JOIN present AS p USING (user_id, entity)
 WHERE NULLIF(current_setting('pgshred.batch_written', true), '') IS NULL
   AND coalesce(e.n, 0) <> coalesce(p.n, 0)
UNION ALL
SELECT NULL, entity, coalesce(e.n, 0), coalesce(w.n, 0)
  FROM (SELECT x.entity, sum(x.n)::bigint AS n FROM expected AS x GROUP BY x.entity) AS e
  FULL JOIN written AS w USING (entity)
 WHERE NULLIF(current_setting('pgshred.batch_written', true), '') IS NOT NULL
   AND coalesce(e.n, 0) <> coalesce(w.n, 0)
 ORDER BY 1, 2;
