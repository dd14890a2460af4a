-- pgshred 0.1.0 -- plan user_app_state_partitioned: verification. Returns ONLY mismatches: per user and
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
    SELECT DISTINCT ON (s.user_id) s.user_id, s.doc
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
             WHERE s."user_id" IN (SELECT unnest("pgshred".scope_users()))) AS s
     ORDER BY s.user_id, s.version DESC, s.position DESC
), expected AS (
    SELECT k.user_id, 'orgs'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"orgs"}'))
                           WITH ORDINALITY AS l0(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'personas'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id, x.parent_legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"orgId"}') IN ('string', 'number')
                                 AND l0.elem #>> '{"orgId"}' <> ''
                                THEN l0.elem #>> '{"orgId"}' END AS parent_legacy_id,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"personas"}'))
                           WITH ORDINALITY AS l0(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'contents'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id, x.parent_legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"personaId"}') IN ('string', 'number')
                                 AND l0.elem #>> '{"personaId"}' <> ''
                                THEN l0.elem #>> '{"personaId"}' END AS parent_legacy_id,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"contents"}'))
                           WITH ORDINALITY AS l0(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'accounts'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id, x.parent_legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"personaId"}') IN ('string', 'number')
                                 AND l0.elem #>> '{"personaId"}' <> ''
                                THEN l0.elem #>> '{"personaId"}' END AS parent_legacy_id,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"accounts"}'))
                           WITH ORDINALITY AS l0(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'leads'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id, x.parent_legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"accountId"}') IN ('string', 'number')
                                 AND l0.elem #>> '{"accountId"}' <> ''
                                THEN l0.elem #>> '{"accountId"}' END AS parent_legacy_id,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"leads"}'))
                           WITH ORDINALITY AS l0(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'references'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id, x.parent_legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"personaId"}') IN ('string', 'number')
                                 AND l0.elem #>> '{"personaId"}' <> ''
                                THEN l0.elem #>> '{"personaId"}' END AS parent_legacy_id,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"references"}'))
                           WITH ORDINALITY AS l0(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     WHERE EXISTS (SELECT 1 FROM "app_partitioned"."personas" AS p
                    WHERE p."id" = "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'personas', k.user_id, k.parent_legacy_id)
                    LIMIT 1)
     GROUP BY k.user_id
    UNION ALL
    SELECT k.user_id, 'inbox_items'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id, x.parent_legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"accountId"}') IN ('string', 'number')
                                 AND l0.elem #>> '{"accountId"}' <> ''
                                THEN l0.elem #>> '{"accountId"}' END AS parent_legacy_id,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number') AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"inboxItems"}'))
                           WITH ORDINALITY AS l0(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
), present AS (
    -- Two branches, one of them empty, so a batch's check uses the user_id index instead of
    -- scanning whole tables (an OR of the two conditions would).
    SELECT t."user_id", 'orgs'::text AS entity, count(*) AS n
      FROM "app_partitioned"."orgs" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'orgs'::text AS entity, count(*) AS n
      FROM "app_partitioned"."orgs" AS t
     WHERE t."user_id" IN (SELECT unnest("pgshred".scope_users()))
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'personas'::text AS entity, count(*) AS n
      FROM "app_partitioned"."personas" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'personas'::text AS entity, count(*) AS n
      FROM "app_partitioned"."personas" AS t
     WHERE t."user_id" IN (SELECT unnest("pgshred".scope_users()))
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'contents'::text AS entity, count(*) AS n
      FROM "app_partitioned"."contents" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'contents'::text AS entity, count(*) AS n
      FROM "app_partitioned"."contents" AS t
     WHERE t."user_id" IN (SELECT unnest("pgshred".scope_users()))
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'accounts'::text AS entity, count(*) AS n
      FROM "app_partitioned"."accounts" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'accounts'::text AS entity, count(*) AS n
      FROM "app_partitioned"."accounts" AS t
     WHERE t."user_id" IN (SELECT unnest("pgshred".scope_users()))
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'leads'::text AS entity, count(*) AS n
      FROM "app_partitioned"."leads" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'leads'::text AS entity, count(*) AS n
      FROM "app_partitioned"."leads" AS t
     WHERE t."user_id" IN (SELECT unnest("pgshred".scope_users()))
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'references'::text AS entity, count(*) AS n
      FROM "app_partitioned"."references" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'references'::text AS entity, count(*) AS n
      FROM "app_partitioned"."references" AS t
     WHERE t."user_id" IN (SELECT unnest("pgshred".scope_users()))
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'inbox_items'::text AS entity, count(*) AS n
      FROM "app_partitioned"."inbox_items" AS t
     WHERE (SELECT "pgshred".scope_users()) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'inbox_items'::text AS entity, count(*) AS n
      FROM "app_partitioned"."inbox_items" AS t
     WHERE t."user_id" IN (SELECT unnest("pgshred".scope_users()))
     GROUP BY t."user_id"
)
SELECT user_id, entity, coalesce(e.n, 0) AS expected, coalesce(p.n, 0) AS present
  FROM expected AS e
  FULL JOIN present AS p USING (user_id, entity)
 WHERE coalesce(e.n, 0) <> coalesce(p.n, 0)
 ORDER BY user_id, entity;
