-- pgshred 0.1.0 -- plan user_app_state_distributed: the tables distributed by user_id over a Citus cluster.
-- Generated from plans/ and mappings/ by `pgshred compile` (target.layout.distribute_by); do not
-- edit by hand.
--
-- Run it on the Citus coordinator after 01_schema.sql and before any batch (`pgshred apply
-- --create-schema` runs it after 01_schema.sql). It is safe to run again: a table already
-- distributed is left as it is.
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 --single-transaction -f 01b_distribute.sql
--
-- Every table is hash-distributed by user_id and colocated with the first, parents first:
--   orgs, personas, contents, accounts, leads, references, inbox_items
-- so that each foreign key, which leads with user_id, joins shards on the same node. A batch
-- writes whole users, so each user's rows of every table land on the node holding that user's
-- shards. The audit schema's tables stay on the coordinator (02_audit.sql adds them to the
-- cluster's metadata, so every node reaches them). Row-level security policies are
-- created by 01_schema.sql as on PostgreSQL; check that your Citus version propagates them.
--
-- Citus does not run updated_at triggers on distributed tables unless citus.enable_unsafe_triggers
-- is on: 01_schema.sql creates none for this layout (one a schema made by an earlier version has
-- is dropped here, before the table is distributed), and the application sets updated_at itself
-- (pgshred writes each row once and never updates it).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION USING
            MESSAGE =
                'pgshred: target.layout.distribute_by needs the citus extension, which this database does not have',
            HINT =
                'run CREATE EXTENSION citus on the coordinator, or use target.layout.partition_by on plain PostgreSQL';
    END IF;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                WHERE tgrelid = '"app_distributed"."orgs"'::regclass AND tgname = 'orgs_touch_updated_at') THEN
        DROP TRIGGER "orgs_touch_updated_at" ON "app_distributed"."orgs";
    END IF;
END
$$;
SELECT pg_catalog.create_distributed_table('"app_distributed"."orgs"', 'user_id')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition
                    WHERE logicalrelid = '"app_distributed"."orgs"'::regclass);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                WHERE tgrelid = '"app_distributed"."personas"'::regclass AND tgname = 'personas_touch_updated_at') THEN
        DROP TRIGGER "personas_touch_updated_at" ON "app_distributed"."personas";
    END IF;
END
$$;
SELECT pg_catalog.create_distributed_table('"app_distributed"."personas"', 'user_id',
       colocate_with => '"app_distributed"."orgs"')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition
                    WHERE logicalrelid = '"app_distributed"."personas"'::regclass);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                WHERE tgrelid = '"app_distributed"."contents"'::regclass AND tgname = 'contents_touch_updated_at') THEN
        DROP TRIGGER "contents_touch_updated_at" ON "app_distributed"."contents";
    END IF;
END
$$;
SELECT pg_catalog.create_distributed_table('"app_distributed"."contents"', 'user_id',
       colocate_with => '"app_distributed"."orgs"')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition
                    WHERE logicalrelid = '"app_distributed"."contents"'::regclass);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                WHERE tgrelid = '"app_distributed"."accounts"'::regclass AND tgname = 'accounts_touch_updated_at') THEN
        DROP TRIGGER "accounts_touch_updated_at" ON "app_distributed"."accounts";
    END IF;
END
$$;
SELECT pg_catalog.create_distributed_table('"app_distributed"."accounts"', 'user_id',
       colocate_with => '"app_distributed"."orgs"')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition
                    WHERE logicalrelid = '"app_distributed"."accounts"'::regclass);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                WHERE tgrelid = '"app_distributed"."leads"'::regclass AND tgname = 'leads_touch_updated_at') THEN
        DROP TRIGGER "leads_touch_updated_at" ON "app_distributed"."leads";
    END IF;
END
$$;
SELECT pg_catalog.create_distributed_table('"app_distributed"."leads"', 'user_id',
       colocate_with => '"app_distributed"."orgs"')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition
                    WHERE logicalrelid = '"app_distributed"."leads"'::regclass);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                WHERE tgrelid = '"app_distributed"."references"'::regclass
                    AND tgname = 'references_touch_updated_at') THEN
        DROP TRIGGER "references_touch_updated_at" ON "app_distributed"."references";
    END IF;
END
$$;
SELECT pg_catalog.create_distributed_table('"app_distributed"."references"', 'user_id',
       colocate_with => '"app_distributed"."orgs"')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition
                    WHERE logicalrelid = '"app_distributed"."references"'::regclass);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                WHERE tgrelid = '"app_distributed"."inbox_items"'::regclass
                    AND tgname = 'inbox_items_touch_updated_at') THEN
        DROP TRIGGER "inbox_items_touch_updated_at" ON "app_distributed"."inbox_items";
    END IF;
END
$$;
SELECT pg_catalog.create_distributed_table('"app_distributed"."inbox_items"', 'user_id',
       colocate_with => '"app_distributed"."orgs"')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition
                    WHERE logicalrelid = '"app_distributed"."inbox_items"'::regclass);
