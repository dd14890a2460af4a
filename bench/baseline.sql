-- The hand-written migration a DBA would write for the user_app_state plan: per batch, one
-- set-based INSERT ... SELECT ... jsonb_array_elements per table in foreign-key order, with audit
-- rows, straightforward casts and no checks. The benchmark runs it on clean data only (a bad value
-- would abort it without saying where), with the batch's user ids as $1 (text[]), the plan
-- namespace as $2 (uuid), and the run and batch ids as $3 and $4 (bigint).
-- Each statement is run separately (the benchmark splits on the blank-line-separated blocks).
-- The audit is the table a DBA would add for rollback: one row per created row, indexed by batch
-- (created once, before the first batch).

CREATE TABLE dba_audit (
  run_id bigint NOT NULL, batch_id bigint NOT NULL, user_id text NOT NULL, source_entity text NOT NULL,
  legacy_id text NOT NULL, target_table text NOT NULL, target_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON dba_audit (batch_id)

WITH ins AS (
  INSERT INTO orgs (id, user_id, legacy_id, name, plan, seats, settings, source_created_at, extra)
  SELECT uuid_generate_v5($2, 'orgs:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'id')),
         s.user_id, e->>'id', e->>'name', coalesce(e->>'plan', 'free'), (e->>'seats')::int, e->'settings',
         (e->>'createdAt')::timestamptz, NULLIF(e - ARRAY['id','name','plan','seats','settings','createdAt','_localCache'], '{}')
    FROM user_app_state s CROSS JOIN LATERAL jsonb_array_elements(s.state->'orgs') e
   WHERE s.user_id = ANY($1)
  ON CONFLICT DO NOTHING RETURNING id, user_id, legacy_id)
INSERT INTO dba_audit (run_id, batch_id, user_id, source_entity, legacy_id, target_table, target_id)
SELECT $3, $4, user_id, 'orgs', legacy_id, 'orgs', id FROM ins

WITH ins AS (
  INSERT INTO personas (id, user_id, legacy_id, org_id, name, tone, bio, avatar_url, is_default, source_created_at, extra)
  SELECT uuid_generate_v5($2, 'personas:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'id')),
         s.user_id, e->>'id',
         uuid_generate_v5($2, 'orgs:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'orgId')),
         e->>'name', coalesce(e->>'tone', 'neutral'), e#>>'{profile,bio}', e#>>'{profile,avatarUrl}',
         coalesce((e->>'isDefault')::boolean, false), (e->>'createdAt')::timestamptz,
         NULLIF(e - ARRAY['id','orgId','name','tone','isDefault','createdAt','profile'], '{}')
    FROM user_app_state s CROSS JOIN LATERAL jsonb_array_elements(s.state->'personas') e
   WHERE s.user_id = ANY($1)
  ON CONFLICT DO NOTHING RETURNING id, user_id, legacy_id)
INSERT INTO dba_audit (run_id, batch_id, user_id, source_entity, legacy_id, target_table, target_id)
SELECT $3, $4, user_id, 'personas', legacy_id, 'personas', id FROM ins

WITH ins AS (
  INSERT INTO contents (id, user_id, legacy_id, persona_id, title, body, status, tags, word_count, published_at, source_created_at, extra)
  SELECT uuid_generate_v5($2, 'contents:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'id')),
         s.user_id, e->>'id',
         uuid_generate_v5($2, 'personas:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'personaId')),
         e->>'title', e->>'body', coalesce(e->>'status', 'draft'),
         ARRAY(SELECT jsonb_array_elements_text(e->'tags')), (e->>'wordCount')::int,
         (e->>'publishedAt')::timestamptz, (e->>'createdAt')::timestamptz,
         NULLIF(e - ARRAY['id','personaId','title','body','status','tags','wordCount','publishedAt','createdAt','renderedHtml'], '{}')
    FROM user_app_state s CROSS JOIN LATERAL jsonb_array_elements(s.state->'contents') e
   WHERE s.user_id = ANY($1)
  ON CONFLICT DO NOTHING RETURNING id, user_id, legacy_id)
INSERT INTO dba_audit (run_id, batch_id, user_id, source_entity, legacy_id, target_table, target_id)
SELECT $3, $4, user_id, 'contents', legacy_id, 'contents', id FROM ins

WITH ins AS (
  INSERT INTO accounts (id, user_id, legacy_id, persona_id, platform, handle, followers, connected, connected_at, extra)
  SELECT uuid_generate_v5($2, 'accounts:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'id')),
         s.user_id, e->>'id',
         uuid_generate_v5($2, 'personas:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'personaId')),
         e->>'platform', e->>'handle', (e->>'followers')::bigint, coalesce((e->>'connected')::boolean, false),
         (e->>'connectedAt')::timestamptz,
         NULLIF(e - ARRAY['id','personaId','platform','handle','followers','connected','connectedAt','accessToken'], '{}')
    FROM user_app_state s CROSS JOIN LATERAL jsonb_array_elements(s.state->'accounts') e
   WHERE s.user_id = ANY($1)
  ON CONFLICT DO NOTHING RETURNING id, user_id, legacy_id)
INSERT INTO dba_audit (run_id, batch_id, user_id, source_entity, legacy_id, target_table, target_id)
SELECT $3, $4, user_id, 'accounts', legacy_id, 'accounts', id FROM ins

WITH ins AS (
  INSERT INTO leads (id, user_id, legacy_id, account_id, name, email, score, stage, source_created_at, extra)
  SELECT uuid_generate_v5($2, 'leads:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'id')),
         s.user_id, e->>'id',
         uuid_generate_v5($2, 'accounts:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'accountId')),
         e->>'name', e->>'email', (e->>'score')::numeric, coalesce(e->>'stage', 'new'), (e->>'createdAt')::timestamptz,
         NULLIF(e - ARRAY['id','accountId','name','email','score','stage','createdAt'], '{}')
    FROM user_app_state s CROSS JOIN LATERAL jsonb_array_elements(s.state->'leads') e
   WHERE s.user_id = ANY($1)
  ON CONFLICT DO NOTHING RETURNING id, user_id, legacy_id)
INSERT INTO dba_audit (run_id, batch_id, user_id, source_entity, legacy_id, target_table, target_id)
SELECT $3, $4, user_id, 'leads', legacy_id, 'leads', id FROM ins

WITH ins AS (
  INSERT INTO "references" (id, user_id, legacy_id, persona_id, url, title, note, added_on, extra)
  SELECT uuid_generate_v5($2, 'references:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'id')),
         s.user_id, e->>'id',
         uuid_generate_v5($2, 'personas:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'personaId')),
         e->>'url', e->>'title', e->>'note', (e->>'addedOn')::date,
         NULLIF(e - ARRAY['id','personaId','url','title','note','addedOn'], '{}')
    FROM user_app_state s CROSS JOIN LATERAL jsonb_array_elements(s.state->'references') e
   WHERE s.user_id = ANY($1)
  ON CONFLICT DO NOTHING RETURNING id, user_id, legacy_id)
INSERT INTO dba_audit (run_id, batch_id, user_id, source_entity, legacy_id, target_table, target_id)
SELECT $3, $4, user_id, 'references', legacy_id, 'references', id FROM ins

WITH ins AS (
  INSERT INTO inbox_items (id, user_id, legacy_id, account_id, sender, subject, received_at, is_read, payload, extra)
  SELECT uuid_generate_v5($2, 'inbox_items:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'id')),
         s.user_id, e->>'id',
         uuid_generate_v5($2, 'accounts:' || length(s.user_id) || ':' || s.user_id || ':' || (e->>'accountId')),
         e->>'from', e->>'subject', (e->>'receivedAt')::timestamptz, coalesce((e->>'read')::boolean, false), e->'payload',
         NULLIF(e - ARRAY['id','accountId','from','subject','receivedAt','read','payload'], '{}')
    FROM user_app_state s CROSS JOIN LATERAL jsonb_array_elements(s.state->'inboxItems') e
   WHERE s.user_id = ANY($1)
  ON CONFLICT DO NOTHING RETURNING id, user_id, legacy_id)
INSERT INTO dba_audit (run_id, batch_id, user_id, source_entity, legacy_id, target_table, target_id)
SELECT $3, $4, user_id, 'inbox_items', legacy_id, 'inbox_items', id FROM ins
