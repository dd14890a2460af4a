-- pgshred 0.1.0 -- plan outliner: exact rollback. Deletes the rows that
-- pgshred.migration_audit says the selected run, batch and/or user created, children
-- before parents, then those audit rows. Rows pgshred did not create are never touched. Rows a
-- rolled-back batch replaced (apply --sync, --remap) are put back with their audit, and each user's
-- ledger entry returns to what it was before the batch.
-- Generated from plans/ and mappings/ by `pgshred compile`; do not edit by hand.
--
-- Select what to roll back with transaction-local settings (any combination narrows it down):
--   BEGIN;
--   SELECT set_config('pgshred.rollback_batch', '42', true);   -- or rollback_run / rollback_user
--   \i 05_rollback.sql
--   COMMIT;
-- `pgshred rollback PLAN --run ID | --batch ID | --user ID` does the same.
--
-- Batches are undone newest first, so a batch that replaced an older batch's rows restores them
-- before the older one is undone in turn. A batch whose users were migrated again by a later batch
-- that is not part of the selection is refused: undoing it would pull rows out from under that one.

SELECT "pgshred".rollback_guard();

DO $rollback$
DECLARE
    batch bigint;
    only_user text := NULLIF(current_setting('pgshred.rollback_user', true), '');
    blocker record;
    chosen bigint[];
BEGIN
    FOR batch IN
        SELECT x.batch_id
          FROM (SELECT a."batch_id", a."run_id", a."user_id" FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."target_table" IN ('accounts', 'graphs', 'pages', 'page_tags', 'blocks', 'block_props',
                     'block_refs', 'daily_notes')
                UNION
                SELECT m."batch_id", m."run_id", m."user_id" FROM "pgshred"."migration_users" AS m
                 WHERE m."plan" = 'outliner'
                UNION
                SELECT q."batch_id", q."run_id", q."user_id" FROM "pgshred"."migration_quarantine" AS q
                 WHERE q."plan" = 'outliner'
                UNION
                SELECT p."batch_id", b."run_id", p."user_id" FROM "pgshred"."migration_replaced_users" AS p
                  JOIN "pgshred"."migration_batches" AS b ON b."id" = p."batch_id"
                  JOIN "pgshred"."migration_runs" AS r ON r."id" = b."run_id" AND r."plan" = 'outliner') AS x
         WHERE "pgshred".rollback_selected(x."run_id", x."batch_id", x."user_id")
         GROUP BY x.batch_id
         ORDER BY x.batch_id DESC
    LOOP
        SELECT m."user_id", m."batch_id", m."run_id" INTO blocker
          FROM "pgshred"."migration_batches" AS b
         CROSS JOIN LATERAL unnest(b."user_ids") AS u(user_id)
          JOIN "pgshred"."migration_users" AS m ON m."plan" = 'outliner' AND m."user_id" = u.user_id
         WHERE b."id" = batch AND m."batch_id" > batch
           AND (only_user IS NULL OR m."user_id" = only_user)
           AND (EXISTS (SELECT 1 FROM "pgshred"."migration_audit_sets" AS a WHERE a."batch_id" = batch
               AND a."user_id" = m."user_id")
                OR EXISTS (SELECT 1 FROM "pgshred"."migration_replaced_users" AS p WHERE p."batch_id" = batch
                    AND p."user_id" = m."user_id"))
         ORDER BY m."batch_id" DESC
         LIMIT 1;
        IF NOT FOUND THEN
            -- Rows of this batch another batch replaced (and still holds, e.g. a sync of a user whose
            -- source row is gone).
            SELECT a."user_id", a."replaced_by" AS batch_id, b."run_id" INTO blocker
              FROM "pgshred"."migration_audit_sets" AS a
              JOIN "pgshred"."migration_batches" AS b ON b."id" = a."replaced_by"
             WHERE a."batch_id" = batch AND a."replaced_by" IS NOT NULL
               AND (only_user IS NULL OR a."user_id" = only_user)
             LIMIT 1;
        END IF;
        IF FOUND THEN
            RAISE EXCEPTION
                'pgshred: user % of batch % was migrated again by batch % (run %), which is not being rolled back',
                            blocker.user_id, batch, blocker.batch_id, blocker.run_id
                USING HINT = format('roll back run %s (or batch %s) first, or the user everywhere with --user alone',
                    blocker.run_id, blocker.batch_id);
        END IF;

        DELETE FROM "outliner"."daily_notes" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'daily_notes'
                   AND a."source_entity" = 'daily_notes' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "outliner"."daily_notes" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'daily_notes'
                              AND a."source_entity" = 'daily_notes'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'daily_notes', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "outliner"."block_refs" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'block_refs'
                   AND a."source_entity" = 'block_refs' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "outliner"."block_refs" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'block_refs'
                              AND a."source_entity" = 'block_refs'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'block_refs', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "outliner"."block_props" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'block_props'
                   AND a."source_entity" = 'block_props' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "outliner"."block_props" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'block_props'
                              AND a."source_entity" = 'block_props'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'block_props', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "outliner"."blocks" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'blocks'
                   AND a."source_entity" = 'blocks' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "outliner"."blocks" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'blocks'
                              AND a."source_entity" = 'blocks'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed', 'blocks',
                batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "outliner"."page_tags" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'page_tags'
                   AND a."source_entity" = 'page_tags' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "outliner"."page_tags" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'page_tags'
                              AND a."source_entity" = 'page_tags'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'page_tags', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "outliner"."pages" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'pages'
                   AND a."source_entity" = 'pages' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "outliner"."pages" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'pages'
                              AND a."source_entity" = 'pages'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed', 'pages',
                batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "outliner"."graphs" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'graphs'
                   AND a."source_entity" = 'graph' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "outliner"."graphs" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'graphs'
                              AND a."source_entity" = 'graph'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed', 'graphs',
                batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "outliner"."accounts" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'accounts'
                   AND a."source_entity" = 'account' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "outliner"."accounts" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'accounts'
                              AND a."source_entity" = 'account'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'accounts', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "pgshred"."migration_audit_sets" AS a
         WHERE a."batch_id" = batch AND (only_user IS NULL OR a."user_id" = only_user)
           AND a."target_table" IN ('accounts', 'graphs', 'pages', 'page_tags', 'blocks', 'block_props', 'block_refs',
               'daily_notes');

        IF (SELECT b."replace" FROM "pgshred"."migration_batches" AS b WHERE b."id" = batch) THEN
            -- The rows this batch replaced come back, parents first, with their audit.
            INSERT INTO "outliner"."accounts"
            SELECT (jsonb_populate_record(NULL::"outliner"."accounts", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'accounts'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "outliner"."graphs"
            SELECT (jsonb_populate_record(NULL::"outliner"."graphs", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'graphs'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "outliner"."pages"
            SELECT (jsonb_populate_record(NULL::"outliner"."pages", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'pages'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "outliner"."page_tags"
            SELECT (jsonb_populate_record(NULL::"outliner"."page_tags", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'page_tags'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "outliner"."blocks"
            SELECT (jsonb_populate_record(NULL::"outliner"."blocks", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'blocks'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "outliner"."block_props"
            SELECT (jsonb_populate_record(NULL::"outliner"."block_props", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'block_props'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "outliner"."block_refs"
            SELECT (jsonb_populate_record(NULL::"outliner"."block_refs", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'block_refs'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "outliner"."daily_notes"
            SELECT (jsonb_populate_record(NULL::"outliner"."daily_notes", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'daily_notes'
               AND (only_user IS NULL OR p."user_id" = only_user);
            UPDATE "pgshred"."migration_audit_sets" AS a SET "replaced_by" = NULL
             WHERE a."replaced_by" = batch AND (only_user IS NULL OR a."user_id" = only_user);
            DELETE FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND (only_user IS NULL OR p."user_id" = only_user);
        END IF;

        -- Its users are no longer migrated by it: a user it migrated first becomes eligible again,
        -- a user it re-migrated gets back the ledger entry it had before.
        DELETE FROM "pgshred"."migration_users" AS m
         WHERE m."plan" = 'outliner' AND m."batch_id" = batch
           AND (only_user IS NULL OR m."user_id" = only_user);
        INSERT INTO "pgshred"."migration_users"
        SELECT (jsonb_populate_record(NULL::"pgshred"."migration_users", p."previous")).*
          FROM "pgshred"."migration_replaced_users" AS p
         WHERE p."batch_id" = batch AND (only_user IS NULL OR p."user_id" = only_user);
        DELETE FROM "pgshred"."migration_replaced_users" AS p
         WHERE p."batch_id" = batch AND (only_user IS NULL OR p."user_id" = only_user);

        -- Users it set aside are no longer quarantined either: the next `pgshred apply` tries them again.
        DELETE FROM "pgshred"."migration_quarantine" AS q
         WHERE q."plan" = 'outliner' AND q."batch_id" = batch
           AND (only_user IS NULL OR q."user_id" = only_user);
    END LOOP;
    -- A whole batch or run rolled back is marked so; a single user's rollback leaves its batch as
    -- is. (The batches are chosen first: Citus takes no function of a row's columns in an UPDATE
    -- of the ledger.)
    IF only_user IS NULL THEN
        SELECT array_agg(b."id") INTO chosen
          FROM "pgshred"."migration_batches" AS b
         WHERE "pgshred".rollback_selected(b."run_id", b."id", NULL);
        UPDATE "pgshred"."migration_batches" AS b SET "status" = 'rolled_back'
         WHERE b."id" = ANY (chosen);
    END IF;
END
$rollback$;
