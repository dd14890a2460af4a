-- pgshred 0.1.0 -- plan user_app_state_distributed: verification. Returns ONLY mismatches: per user and
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
WITH scope AS MATERIALIZED (
    -- The users in scope, read here on the coordinator, where the batch's settings are: Citus
    -- would evaluate a call inside a distributed query on the workers, which have none.
    -- With the source table distributed too, `pgshred apply` and `verify` bind these users as
    -- $1 wherever this file reads them from here: Citus sends a query to the shards holding the
    -- users it names as a parameter, but to every shard when they come from a CTE.
    SELECT "pgshred".scope_users() AS users
), doc AS (
    -- `#> '{}'` is the document itself, decompressed once here rather than once per entity below.
    SELECT d.user_id, d.doc #> '{}' AS doc
      FROM (SELECT DISTINCT ON (s.user_id) s.user_id, s.doc
              FROM (-- Everyone when no scope is set, else the scope's users through the index: two
                    -- branches, one of them empty (an OR of the two would scan the whole table).
                    SELECT s."user_id"::text AS user_id, s."state" AS doc,
                           s."updated_at" AS version, s.ctid AS position
                      FROM "public"."user_app_state" AS s
                     WHERE (SELECT scope.users FROM scope)::text[] IS NULL
                    UNION ALL
                    SELECT s."user_id"::text, s."state",
                           s."updated_at", s.ctid
                      FROM "public"."user_app_state" AS s
                     WHERE s."user_id" = ANY ((SELECT scope.users FROM scope)::text[])) AS s
             ORDER BY s.user_id, s.version DESC, s.position DESC) AS d
), expected AS (
    SELECT k.user_id, 'orgs'::text AS entity, count(*) AS n
      -- Only the narrow columns are sorted: the elements themselves can be kilobytes each.
      FROM (SELECT DISTINCT ON (x.user_id, x.legacy_id) x.user_id, x.legacy_id
              FROM (SELECT doc.user_id,
                           l0.elem,
                           l0.ord AS ord0,
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
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
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
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
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
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
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
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
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
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
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"references"}'))
                           WITH ORDINALITY AS l0(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     WHERE "pgshred".row_id('9b1c0c6e-4f4e-5b7a-9a53-2d7f4e8c1a01', 'personas', k.user_id, k.parent_legacy_id) IN
           (SELECT p."id" FROM "app_distributed"."personas" AS p WHERE p."user_id" = ANY ((SELECT scope.users FROM
               scope)::text[])
            UNION ALL SELECT p."id" FROM "app_distributed"."personas" AS p WHERE (SELECT scope.users FROM scope) IS
                NULL)
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
                           CASE WHEN jsonb_typeof(l0.elem #> '{"id"}') IN ('string', 'number')
                               AND l0.elem #>> '{"id"}' <> '' THEN l0.elem #>> '{"id"}' END AS legacy_id
                      FROM doc
                     CROSS JOIN LATERAL jsonb_array_elements("pgshred".array_or_empty(doc.doc #> '{"inboxItems"}'))
                           WITH ORDINALITY AS l0(elem, ord)) AS x
             WHERE x.legacy_id IS NOT NULL
             ORDER BY x.user_id, x.legacy_id, x.ord0) AS k
     GROUP BY k.user_id
), present AS (
    -- Two branches, one of them empty: without a scope, every row grouped by user; with one, each
    -- scope user's rows counted through the user_id index (a join with the scope's users would be
    -- planned as a scan of the whole table while it is small, and grow with it).
    -- On Citus, each branch one filter that it routes to the shards (it takes no correlated
    -- subquery over a distributed table): the scope's users through the user_id index, or,
    -- when there is no scope, everyone.
    SELECT t."user_id", 'orgs'::text AS entity, count(*) AS n
      FROM "app_distributed"."orgs" AS t
     WHERE t."user_id" = ANY ((SELECT scope.users FROM scope)::text[])
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'orgs'::text AS entity, count(*) AS n
      FROM "app_distributed"."orgs" AS t
     WHERE (SELECT scope.users FROM scope) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    -- On Citus, each branch one filter that it routes to the shards (it takes no correlated
    -- subquery over a distributed table): the scope's users through the user_id index, or,
    -- when there is no scope, everyone.
    SELECT t."user_id", 'personas'::text AS entity, count(*) AS n
      FROM "app_distributed"."personas" AS t
     WHERE t."user_id" = ANY ((SELECT scope.users FROM scope)::text[])
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'personas'::text AS entity, count(*) AS n
      FROM "app_distributed"."personas" AS t
     WHERE (SELECT scope.users FROM scope) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    -- On Citus, each branch one filter that it routes to the shards (it takes no correlated
    -- subquery over a distributed table): the scope's users through the user_id index, or,
    -- when there is no scope, everyone.
    SELECT t."user_id", 'contents'::text AS entity, count(*) AS n
      FROM "app_distributed"."contents" AS t
     WHERE t."user_id" = ANY ((SELECT scope.users FROM scope)::text[])
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'contents'::text AS entity, count(*) AS n
      FROM "app_distributed"."contents" AS t
     WHERE (SELECT scope.users FROM scope) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    -- On Citus, each branch one filter that it routes to the shards (it takes no correlated
    -- subquery over a distributed table): the scope's users through the user_id index, or,
    -- when there is no scope, everyone.
    SELECT t."user_id", 'accounts'::text AS entity, count(*) AS n
      FROM "app_distributed"."accounts" AS t
     WHERE t."user_id" = ANY ((SELECT scope.users FROM scope)::text[])
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'accounts'::text AS entity, count(*) AS n
      FROM "app_distributed"."accounts" AS t
     WHERE (SELECT scope.users FROM scope) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    -- On Citus, each branch one filter that it routes to the shards (it takes no correlated
    -- subquery over a distributed table): the scope's users through the user_id index, or,
    -- when there is no scope, everyone.
    SELECT t."user_id", 'leads'::text AS entity, count(*) AS n
      FROM "app_distributed"."leads" AS t
     WHERE t."user_id" = ANY ((SELECT scope.users FROM scope)::text[])
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'leads'::text AS entity, count(*) AS n
      FROM "app_distributed"."leads" AS t
     WHERE (SELECT scope.users FROM scope) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    -- On Citus, each branch one filter that it routes to the shards (it takes no correlated
    -- subquery over a distributed table): the scope's users through the user_id index, or,
    -- when there is no scope, everyone.
    SELECT t."user_id", 'references'::text AS entity, count(*) AS n
      FROM "app_distributed"."references" AS t
     WHERE t."user_id" = ANY ((SELECT scope.users FROM scope)::text[])
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'references'::text AS entity, count(*) AS n
      FROM "app_distributed"."references" AS t
     WHERE (SELECT scope.users FROM scope) IS NULL
     GROUP BY t."user_id"
    UNION ALL
    -- On Citus, each branch one filter that it routes to the shards (it takes no correlated
    -- subquery over a distributed table): the scope's users through the user_id index, or,
    -- when there is no scope, everyone.
    SELECT t."user_id", 'inbox_items'::text AS entity, count(*) AS n
      FROM "app_distributed"."inbox_items" AS t
     WHERE t."user_id" = ANY ((SELECT scope.users FROM scope)::text[])
     GROUP BY t."user_id"
    UNION ALL
    SELECT t."user_id", 'inbox_items'::text AS entity, count(*) AS n
      FROM "app_distributed"."inbox_items" AS t
     WHERE (SELECT scope.users FROM scope) IS NULL
     GROUP BY t."user_id"
), written AS (
    -- A batch of `apply --bulk` sets pgshred.batch_written to the rows each entity's COPY wrote, as
    -- the server counted them ({"entity": rows, ...}): its tables held no row of its users before
    -- it, and their user_id indexes are built after the last batch, so the batch is checked per
    -- entity against those counts instead of per user against the tables.
    SELECT w.key AS entity, w.value::bigint AS n
      FROM jsonb_each_text(NULLIF(current_setting('pgshred.batch_written', true), '')::jsonb) AS w
), mode AS (
    -- Per user, or (a --bulk batch) per entity: a column of its own, as Citus on PostgreSQL 15 and
    -- 16 takes no condition on no column beside an outer join.
    SELECT NULLIF(current_setting('pgshred.batch_written', true), '') IS NULL AS per_user
)
SELECT user_id, entity, coalesce(e.n, 0) AS expected, coalesce(p.n, 0) AS present
  FROM expected AS e
  FULL JOIN present AS p USING (user_id, entity)
  JOIN mode ON mode.per_user
 WHERE coalesce(e.n, 0) <> coalesce(p.n, 0)
UNION ALL
SELECT NULL, entity, coalesce(e.n, 0), coalesce(w.n, 0)
  FROM (SELECT x.entity, sum(x.n)::bigint AS n FROM expected AS x GROUP BY x.entity) AS e
  FULL JOIN written AS w USING (entity)
  JOIN mode ON NOT mode.per_user
 WHERE coalesce(e.n, 0) <> coalesce(w.n, 0)
 ORDER BY 1, 2;
