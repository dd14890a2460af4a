-- pgshred 0.1.0 -- plan kanban: exact rollback. Deletes the rows that
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
                 WHERE a."target_table" IN ('boards', 'board_prefs', 'lists', 'labels', 'cards', 'checklist_items',
                     'members', 'card_members', 'activity', 'card_comments', 'card_moves', 'board_settings',
                     'shortcuts')
                UNION
                SELECT m."batch_id", m."run_id", m."user_id" FROM "pgshred"."migration_users" AS m
                 WHERE m."plan" = 'kanban'
                UNION
                SELECT q."batch_id", q."run_id", q."user_id" FROM "pgshred"."migration_quarantine" AS q
                 WHERE q."plan" = 'kanban'
                UNION
                SELECT p."batch_id", b."run_id", p."user_id" FROM "pgshred"."migration_replaced_users" AS p
                  JOIN "pgshred"."migration_batches" AS b ON b."id" = p."batch_id"
                  JOIN "pgshred"."migration_runs" AS r ON r."id" = b."run_id" AND r."plan" = 'kanban') AS x
         WHERE "pgshred".rollback_selected(x."run_id", x."batch_id", x."user_id")
         GROUP BY x.batch_id
         ORDER BY x.batch_id DESC
    LOOP
        SELECT m."user_id", m."batch_id", m."run_id" INTO blocker
          FROM "pgshred"."migration_batches" AS b
         CROSS JOIN LATERAL unnest(b."user_ids") AS u(user_id)
          JOIN "pgshred"."migration_users" AS m ON m."plan" = 'kanban' AND m."user_id" = u.user_id
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

        DELETE FROM "kanban"."shortcuts" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'shortcuts'
                   AND a."source_entity" = 'shortcuts' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."shortcuts" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'shortcuts'
                              AND a."source_entity" = 'shortcuts'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'shortcuts', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."board_settings" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'board_settings'
                   AND a."source_entity" = 'settings' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."board_settings" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'board_settings'
                              AND a."source_entity" = 'settings'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'board_settings', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."card_moves" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'card_moves'
                   AND a."source_entity" = 'card_moves' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."card_moves" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'card_moves'
                              AND a."source_entity" = 'card_moves'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'card_moves', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."card_comments" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'card_comments'
                   AND a."source_entity" = 'comments' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."card_comments" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'card_comments'
                              AND a."source_entity" = 'comments'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'card_comments', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."activity" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'activity'
                   AND a."source_entity" = 'activity' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."activity" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'activity'
                              AND a."source_entity" = 'activity'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'activity', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."card_members" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'card_members'
                   AND a."source_entity" = 'card_members' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."card_members" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'card_members'
                              AND a."source_entity" = 'card_members'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'card_members', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."members" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'members'
                   AND a."source_entity" = 'members' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."members" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'members'
                              AND a."source_entity" = 'members'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'members', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."checklist_items" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'checklist_items'
                   AND a."source_entity" = 'checklist' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."checklist_items" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'checklist_items'
                              AND a."source_entity" = 'checklist'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'checklist_items', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."cards" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'cards'
                   AND a."source_entity" = 'cards' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."cards" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'cards'
                              AND a."source_entity" = 'cards'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed', 'cards',
                batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."labels" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'labels'
                   AND a."source_entity" = 'labels' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."labels" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'labels'
                              AND a."source_entity" = 'labels'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed', 'labels',
                batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."lists" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'lists'
                   AND a."source_entity" = 'lists' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."lists" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'lists'
                              AND a."source_entity" = 'lists'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed', 'lists',
                batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."board_prefs" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'board_prefs'
                   AND a."source_entity" = 'prefs' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."board_prefs" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'board_prefs'
                              AND a."source_entity" = 'prefs'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'board_prefs', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "kanban"."boards" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'boards'
                   AND a."source_entity" = 'board' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "kanban"."boards" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'boards'
                              AND a."source_entity" = 'board'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed', 'boards',
                batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "pgshred"."migration_audit_sets" AS a
         WHERE a."batch_id" = batch AND (only_user IS NULL OR a."user_id" = only_user)
           AND a."target_table" IN ('boards', 'board_prefs', 'lists', 'labels', 'cards', 'checklist_items', 'members',
               'card_members', 'activity', 'card_comments', 'card_moves', 'board_settings', 'shortcuts');

        IF (SELECT b."replace" FROM "pgshred"."migration_batches" AS b WHERE b."id" = batch) THEN
            -- The rows this batch replaced come back, parents first, with their audit.
            INSERT INTO "kanban"."boards"
            SELECT (jsonb_populate_record(NULL::"kanban"."boards", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'boards'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."board_prefs"
            SELECT (jsonb_populate_record(NULL::"kanban"."board_prefs", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'board_prefs'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."lists"
            SELECT (jsonb_populate_record(NULL::"kanban"."lists", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'lists'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."labels"
            SELECT (jsonb_populate_record(NULL::"kanban"."labels", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'labels'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."cards"
            SELECT (jsonb_populate_record(NULL::"kanban"."cards", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'cards'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."checklist_items"
            SELECT (jsonb_populate_record(NULL::"kanban"."checklist_items", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'checklist_items'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."members"
            SELECT (jsonb_populate_record(NULL::"kanban"."members", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'members'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."card_members"
            SELECT (jsonb_populate_record(NULL::"kanban"."card_members", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'card_members'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."activity"
            SELECT (jsonb_populate_record(NULL::"kanban"."activity", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'activity'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."card_comments"
            SELECT (jsonb_populate_record(NULL::"kanban"."card_comments", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'card_comments'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."card_moves"
            SELECT (jsonb_populate_record(NULL::"kanban"."card_moves", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'card_moves'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."board_settings"
            SELECT (jsonb_populate_record(NULL::"kanban"."board_settings", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'board_settings'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "kanban"."shortcuts"
            SELECT (jsonb_populate_record(NULL::"kanban"."shortcuts", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'shortcuts'
               AND (only_user IS NULL OR p."user_id" = only_user);
            UPDATE "pgshred"."migration_audit_sets" AS a SET "replaced_by" = NULL
             WHERE a."replaced_by" = batch AND (only_user IS NULL OR a."user_id" = only_user);
            DELETE FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND (only_user IS NULL OR p."user_id" = only_user);
        END IF;

        -- Its users are no longer migrated by it: a user it migrated first becomes eligible again,
        -- a user it re-migrated gets back the ledger entry it had before.
        DELETE FROM "pgshred"."migration_users" AS m
         WHERE m."plan" = 'kanban' AND m."batch_id" = batch
           AND (only_user IS NULL OR m."user_id" = only_user);
        INSERT INTO "pgshred"."migration_users"
        SELECT (jsonb_populate_record(NULL::"pgshred"."migration_users", p."previous")).*
          FROM "pgshred"."migration_replaced_users" AS p
         WHERE p."batch_id" = batch AND (only_user IS NULL OR p."user_id" = only_user);
        DELETE FROM "pgshred"."migration_replaced_users" AS p
         WHERE p."batch_id" = batch AND (only_user IS NULL OR p."user_id" = only_user);

        -- Users it set aside are no longer quarantined either: the next `pgshred apply` tries them again.
        DELETE FROM "pgshred"."migration_quarantine" AS q
         WHERE q."plan" = 'kanban' AND q."batch_id" = batch
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
