-- pgshred 0.1.0 -- plan user_app_state_distributed: export of the source table as JSON lines, one row per
-- line (every column of the row): the lines `pgshred backup` writes, and the input of
-- `pgshred preview --input-file`. Generated from plans/ and mappings/ by `pgshred compile`; do
-- not edit by hand.
--
--   psql "$DATABASE_URL" -X -A -t -v FETCH_COUNT=1000 -f backup.sql > backup.jsonl
--   sha256sum backup.jsonl > backup.jsonl.sha256
-- FETCH_COUNT makes psql stream, so memory stays flat however large the table is. (Not COPY: its
-- text format would escape the backslashes inside the JSON.) `pgshred backup` writes the same
-- lines with a manifest that `restore` and `dedupe --apply` check.
SELECT to_jsonb(s)::text
  FROM "public"."user_app_state" AS s
 ORDER BY s."user_id", s."updated_at";
