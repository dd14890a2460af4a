-- pgshred 0.1.0 -- plan refman: exact rollback. Deletes the rows that
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
                 WHERE a."target_table" IN ('libraries', 'library_info', 'collections', 'collection_items', 'items',
                     'creators', 'tags', 'item_tags', 'notes', 'attachments', 'saved_searches', 'library_prefs')
                UNION
                SELECT m."batch_id", m."run_id", m."user_id" FROM "pgshred"."migration_users" AS m
                 WHERE m."plan" = 'refman'
                UNION
                SELECT q."batch_id", q."run_id", q."user_id" FROM "pgshred"."migration_quarantine" AS q
                 WHERE q."plan" = 'refman'
                UNION
                SELECT p."batch_id", b."run_id", p."user_id" FROM "pgshred"."migration_replaced_users" AS p
                  JOIN "pgshred"."migration_batches" AS b ON b."id" = p."batch_id"
                  JOIN "pgshred"."migration_runs" AS r ON r."id" = b."run_id" AND r."plan" = 'refman') AS x
         WHERE "pgshred".rollback_selected(x."run_id", x."batch_id", x."user_id")
         GROUP BY x.batch_id
         ORDER BY x.batch_id DESC
    LOOP
        SELECT m."user_id", m."batch_id", m."run_id" INTO blocker
          FROM "pgshred"."migration_batches" AS b
         CROSS JOIN LATERAL unnest(b."user_ids") AS u(user_id)
          JOIN "pgshred"."migration_users" AS m ON m."plan" = 'refman' AND m."user_id" = u.user_id
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

        DELETE FROM "refman"."library_prefs" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'library_prefs'
                   AND a."source_entity" = 'prefs' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."library_prefs" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'library_prefs'
                              AND a."source_entity" = 'prefs'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'library_prefs', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "refman"."saved_searches" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'saved_searches'
                   AND a."source_entity" = 'searches' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."saved_searches" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'saved_searches'
                              AND a."source_entity" = 'searches'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'saved_searches', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "refman"."attachments" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'attachments'
                   AND a."source_entity" = 'attachments' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."attachments" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'attachments'
                              AND a."source_entity" = 'attachments'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'attachments', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "refman"."notes" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'notes'
                   AND a."source_entity" = 'notes' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."notes" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'notes'
                              AND a."source_entity" = 'notes'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed', 'notes',
                batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "refman"."item_tags" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'item_tags'
                   AND a."source_entity" = 'tags' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."item_tags" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'item_tags'
                              AND a."source_entity" = 'tags'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'item_tags', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "refman"."tags" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'tags'
                   AND a."source_entity" = 'tag_names' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."tags" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'tags'
                              AND a."source_entity" = 'tag_names'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed', 'tags',
                batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "refman"."creators" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'creators'
                   AND a."source_entity" = 'creators' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."creators" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'creators'
                              AND a."source_entity" = 'creators'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'creators', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "refman"."items" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'items'
                   AND a."source_entity" = 'items' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."items" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'items'
                              AND a."source_entity" = 'items'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed', 'items',
                batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "refman"."collection_items" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'collection_items'
                   AND a."source_entity" = 'collection_items' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."collection_items" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'collection_items'
                              AND a."source_entity" = 'collection_items'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'collection_items', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "refman"."collections" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'collections'
                   AND a."source_entity" = 'collections' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."collections" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'collections'
                              AND a."source_entity" = 'collections'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'collections', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "refman"."library_info" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'library_info'
                   AND a."source_entity" = 'info' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."library_info" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'library_info'
                              AND a."source_entity" = 'info'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'library_info', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "refman"."libraries" AS t
         USING (SELECT unnest(a."target_ids") AS "id"
                  FROM "pgshred"."migration_audit_sets" AS a
                 WHERE a."batch_id" = batch AND a."target_table" = 'libraries'
                   AND a."source_entity" = 'library' AND a."replaced_by" IS NULL
                   AND (only_user IS NULL OR a."user_id" = only_user)) AS a
         WHERE t."id" = a."id";
        IF EXISTS (SELECT 1 FROM "refman"."libraries" AS t
                     JOIN (SELECT unnest(a."target_ids") AS "id" FROM "pgshred"."migration_audit_sets" AS a
                            WHERE a."batch_id" = batch AND a."target_table" = 'libraries'
                              AND a."source_entity" = 'library'
                              AND (only_user IS NULL OR a."user_id" = only_user)) AS a ON t."id" = a."id") THEN
            RAISE EXCEPTION
                'pgshred: rows of % named by the audit of batch % survived the rollback; nothing was changed',
                'libraries', batch
                USING HINT =
                    'run the rollback as the role that owns the tables (row-level security may hide rows from others)';
        END IF;

        DELETE FROM "pgshred"."migration_audit_sets" AS a
         WHERE a."batch_id" = batch AND (only_user IS NULL OR a."user_id" = only_user)
           AND a."target_table" IN ('libraries', 'library_info', 'collections', 'collection_items', 'items', 'creators',
               'tags', 'item_tags', 'notes', 'attachments', 'saved_searches', 'library_prefs');

        IF (SELECT b."replace" FROM "pgshred"."migration_batches" AS b WHERE b."id" = batch) THEN
            -- The rows this batch replaced come back, parents first, with their audit.
            INSERT INTO "refman"."libraries"
            SELECT (jsonb_populate_record(NULL::"refman"."libraries", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'libraries'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "refman"."library_info"
            SELECT (jsonb_populate_record(NULL::"refman"."library_info", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'library_info'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "refman"."collections"
            SELECT (jsonb_populate_record(NULL::"refman"."collections", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'collections'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "refman"."collection_items"
            SELECT (jsonb_populate_record(NULL::"refman"."collection_items", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'collection_items'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "refman"."items"
            SELECT (jsonb_populate_record(NULL::"refman"."items", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'items'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "refman"."creators"
            SELECT (jsonb_populate_record(NULL::"refman"."creators", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'creators'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "refman"."tags"
            SELECT (jsonb_populate_record(NULL::"refman"."tags", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'tags'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "refman"."item_tags"
            SELECT (jsonb_populate_record(NULL::"refman"."item_tags", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'item_tags'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "refman"."notes"
            SELECT (jsonb_populate_record(NULL::"refman"."notes", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'notes'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "refman"."attachments"
            SELECT (jsonb_populate_record(NULL::"refman"."attachments", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'attachments'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "refman"."saved_searches"
            SELECT (jsonb_populate_record(NULL::"refman"."saved_searches", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'saved_searches'
               AND (only_user IS NULL OR p."user_id" = only_user);
            INSERT INTO "refman"."library_prefs"
            SELECT (jsonb_populate_record(NULL::"refman"."library_prefs", p."row")).*
              FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND p."target_table" = 'library_prefs'
               AND (only_user IS NULL OR p."user_id" = only_user);
            UPDATE "pgshred"."migration_audit_sets" AS a SET "replaced_by" = NULL
             WHERE a."replaced_by" = batch AND (only_user IS NULL OR a."user_id" = only_user);
            DELETE FROM "pgshred"."migration_replaced" AS p
             WHERE p."batch_id" = batch AND (only_user IS NULL OR p."user_id" = only_user);
        END IF;

        -- Its users are no longer migrated by it: a user it migrated first becomes eligible again,
        -- a user it re-migrated gets back the ledger entry it had before.
        DELETE FROM "pgshred"."migration_users" AS m
         WHERE m."plan" = 'refman' AND m."batch_id" = batch
           AND (only_user IS NULL OR m."user_id" = only_user);
        INSERT INTO "pgshred"."migration_users"
        SELECT (jsonb_populate_record(NULL::"pgshred"."migration_users", p."previous")).*
          FROM "pgshred"."migration_replaced_users" AS p
         WHERE p."batch_id" = batch AND (only_user IS NULL OR p."user_id" = only_user);
        DELETE FROM "pgshred"."migration_replaced_users" AS p
         WHERE p."batch_id" = batch AND (only_user IS NULL OR p."user_id" = only_user);

        -- Users it set aside are no longer quarantined either: the next `pgshred apply` tries them again.
        DELETE FROM "pgshred"."migration_quarantine" AS q
         WHERE q."plan" = 'refman' AND q."batch_id" = batch
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
