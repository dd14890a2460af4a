-- pgshred 0.1.0 -- plan kanban: duplicate source rows (several rows for one user).
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- The forward script reads only the newest row of each user (by updated_at), but
-- an older row may hold data the newest lacks: review before deleting, and back up first
-- (backup.sql). Run the review query, then the delete in a transaction:
--   psql "$DATABASE_URL" -f dedupe.sql            -- review only: the DELETE below is commented out
-- `pgshred dedupe PLAN` runs the same review, and `--apply --backup FILE` the same delete.

-- Review: users with more than one row, how many, and the newest and oldest timestamps.
SELECT s."user_id"::text AS user_id,
       count(*) AS rows,
       max(s."updated_at")::text AS newest,
       min(s."updated_at")::text AS oldest
  FROM "public"."user_app_state" AS s
 GROUP BY s."user_id"
HAVING count(*) > 1
 ORDER BY s."user_id";

-- Delete: keeps the newest row per user (ties broken by physical position, as the forward script
-- does) and returns what it deleted. Uncomment to run:
-- BEGIN;
-- DELETE FROM "public"."user_app_state" AS s
--  USING (SELECT d.ctid AS row_ctid,
--                row_number() OVER (PARTITION BY d."user_id" ORDER BY d."updated_at" DESC, d.ctid DESC) AS rank
--           FROM "public"."user_app_state" AS d) AS r
--  WHERE s.ctid = r.row_ctid
--    AND r.rank > 1
-- RETURNING s."user_id"::text AS user_id, s."updated_at"::text AS "updated_at";
-- COMMIT;
