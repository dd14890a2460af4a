-- pgshred 0.1.0 -- plan user_app_state: exact rollback. Deletes the rows that
-- pgshred.migration_audit says the selected run, batch and/or user created, children
-- before parents, then those audit rows. Rows pgshred did not create are never touched.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- Select what to roll back with transaction-local settings (any combination narrows it down):
--   BEGIN;
--   SELECT set_config('pgshred.rollback_batch', '42', true);   -- or rollback_run / rollback_user
--   \i 05_rollback.sql
--   COMMIT;
-- `pgshred rollback PLAN --run ID | --batch ID | --user ID` does the same and checks nothing remains.

SELECT "pgshred".rollback_guard();

DELETE FROM "public"."inbox_items" AS t
 USING (SELECT unnest(a."target_ids") AS "id"
          FROM "pgshred"."migration_audit_sets" AS a
         WHERE a."target_table" = 'inbox_items'
           AND a."source_entity" = 'inbox_items'
           AND "pgshred".rollback_selected(a."run_id", a."batch_id", a."user_id")) AS a
 WHERE t."id" = a."id";

DELETE FROM "public"."references" AS t
 USING (SELECT unnest(a."target_ids") AS "id"
          FROM "pgshred"."migration_audit_sets" AS a
         WHERE a."target_table" = 'references'
           AND a."source_entity" = 'references'
           AND "pgshred".rollback_selected(a."run_id", a."batch_id", a."user_id")) AS a
 WHERE t."id" = a."id";

DELETE FROM "public"."leads" AS t
 USING (SELECT unnest(a."target_ids") AS "id"
          FROM "pgshred"."migration_audit_sets" AS a
         WHERE a."target_table" = 'leads'
           AND a."source_entity" = 'leads'
           AND "pgshred".rollback_selected(a."run_id", a."batch_id", a."user_id")) AS a
 WHERE t."id" = a."id";

DELETE FROM "public"."accounts" AS t
 USING (SELECT unnest(a."target_ids") AS "id"
          FROM "pgshred"."migration_audit_sets" AS a
         WHERE a."target_table" = 'accounts'
           AND a."source_entity" = 'accounts'
           AND "pgshred".rollback_selected(a."run_id", a."batch_id", a."user_id")) AS a
 WHERE t."id" = a."id";

DELETE FROM "public"."contents" AS t
 USING (SELECT unnest(a."target_ids") AS "id"
          FROM "pgshred"."migration_audit_sets" AS a
         WHERE a."target_table" = 'contents'
           AND a."source_entity" = 'contents'
           AND "pgshred".rollback_selected(a."run_id", a."batch_id", a."user_id")) AS a
 WHERE t."id" = a."id";

DELETE FROM "public"."personas" AS t
 USING (SELECT unnest(a."target_ids") AS "id"
          FROM "pgshred"."migration_audit_sets" AS a
         WHERE a."target_table" = 'personas'
           AND a."source_entity" = 'personas'
           AND "pgshred".rollback_selected(a."run_id", a."batch_id", a."user_id")) AS a
 WHERE t."id" = a."id";

DELETE FROM "public"."orgs" AS t
 USING (SELECT unnest(a."target_ids") AS "id"
          FROM "pgshred"."migration_audit_sets" AS a
         WHERE a."target_table" = 'orgs'
           AND a."source_entity" = 'orgs'
           AND "pgshred".rollback_selected(a."run_id", a."batch_id", a."user_id")) AS a
 WHERE t."id" = a."id";

DELETE FROM "pgshred"."migration_audit_sets" AS a
 WHERE a."target_table" IN ('orgs', 'personas', 'contents', 'accounts', 'leads', 'references', 'inbox_items')
   AND "pgshred".rollback_selected(a."run_id", a."batch_id", a."user_id");

-- Its users are no longer migrated: the next `pgshred apply` takes them again.
DELETE FROM "pgshred"."migration_users" AS u
 WHERE u."plan" = 'user_app_state'
   AND "pgshred".rollback_selected(u."run_id", u."batch_id", u."user_id");

-- Users it set aside are no longer quarantined either: the next `pgshred apply` tries them again.
DELETE FROM "pgshred"."migration_quarantine" AS q
 WHERE q."plan" = 'user_app_state'
   AND "pgshred".rollback_selected(q."run_id", q."batch_id", q."user_id");

-- A whole batch or run rolled back is marked so; a single user's rollback leaves its batch as is.
UPDATE "pgshred"."migration_batches" AS b
   SET "status" = 'rolled_back'
 WHERE NULLIF(current_setting('pgshred.rollback_user', true), '') IS NULL
   AND "pgshred".rollback_selected(b."run_id", b."id", NULL);
