-- Records that citizens confirmed (health declarations, symptom reports, reports of people who entered
-- illegally), their status history, the outbox of notices, and home-quarantine daily updates.

CREATE TABLE records (
  id serial PRIMARY KEY,
  reference text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('declaration', 'symptoms', 'entrant')),
  channel text NOT NULL,
  user_id text NOT NULL,
  commune text NOT NULL,
  urgency text NOT NULL CHECK (urgency IN ('urgent', 'notice', 'info')),
  status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'acknowledged', 'resolved')),
  -- The answers, personal data included. Never logged; deleted after the retention period.
  data jsonb NOT NULL,
  triage_level text,
  rule_version text,
  -- False when the reporter chose to stay anonymous: officials never see who reported.
  reporter_visible boolean NOT NULL DEFAULT true,
  -- channel:eventId of the confirmation; a redelivered confirmation finds the record it already made.
  idempotency_key text NOT NULL UNIQUE,
  -- The officials' group the notice went to; only that group may change the status.
  notice_chat_id text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  delete_after timestamptz NOT NULL
);

CREATE INDEX records_by_user ON records (channel, user_id, created_at);

CREATE INDEX records_by_delete_after ON records (delete_after);

CREATE TABLE record_status_changes (
  id serial PRIMARY KEY,
  record_id integer NOT NULL REFERENCES records (id) ON DELETE CASCADE,
  status text NOT NULL,
  official_id text NOT NULL,
  official_name text NOT NULL,
  chat_id text NOT NULL,
  changed_at timestamptz NOT NULL
);

CREATE TABLE reference_counters (
  prefix text NOT NULL,
  day text NOT NULL,
  n integer NOT NULL,
  PRIMARY KEY (prefix, day)
);

-- Messages that must reach someone even when the platform is down for a while: retried until sent.
CREATE TABLE notices (
  id serial PRIMARY KEY,
  record_id integer REFERENCES records (id) ON DELETE CASCADE,
  channel text NOT NULL,
  recipient text NOT NULL,
  replies jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  sent_at timestamptz,
  gave_up_at timestamptz,
  last_error text,
  created_at timestamptz NOT NULL
);

CREATE INDEX notices_pending ON notices (next_attempt_at) WHERE sent_at IS NULL AND gave_up_at IS NULL;

CREATE TABLE quarantine_enrolments (
  id serial PRIMARY KEY,
  record_id integer NOT NULL UNIQUE REFERENCES records (id) ON DELETE CASCADE,
  channel text NOT NULL,
  user_id text NOT NULL,
  commune text NOT NULL,
  starts_on date NOT NULL,
  ends_on date NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE daily_updates (
  id serial PRIMARY KEY,
  enrolment_id integer NOT NULL REFERENCES quarantine_enrolments (id) ON DELETE CASCADE,
  day date NOT NULL,
  temperature numeric(4, 1),
  symptoms jsonb NOT NULL,
  idempotency_key text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL
);

-- "Done once" marks shared by every process: a reminder sent, a missed day flagged, a retention run.
CREATE TABLE daily_jobs (
  kind text NOT NULL,
  subject text NOT NULL,
  day date NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, subject, day)
);
