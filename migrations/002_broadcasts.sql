-- Announcements: who wants them (by commune and topic) and, per broadcast, one delivery row per recipient.

CREATE TABLE subscriptions (
  channel text NOT NULL,
  user_id text NOT NULL,
  commune text NOT NULL,
  locale text NOT NULL,
  urgent boolean NOT NULL,
  news boolean NOT NULL,
  active boolean NOT NULL DEFAULT true,
  -- Why it stopped: 'user' (unsubscribed), 'blocked' (blocked the bot / unfollowed), 'erased' never stays (row deleted).
  inactive_reason text,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (channel, user_id)
);

CREATE INDEX subscriptions_by_commune ON subscriptions (commune) WHERE active;

CREATE TABLE broadcasts (
  id serial PRIMARY KEY,
  topic text NOT NULL CHECK (topic IN ('urgent', 'news')),
  text_vi text NOT NULL,
  text_en text,
  -- JSON array of commune ids, or null for every commune.
  communes jsonb,
  status text NOT NULL CHECK (status IN ('sending', 'done', 'cancelled')),
  created_by text NOT NULL,
  -- The officials' group that started it (progress and the final report go there), or null (HTTP API).
  origin_chat_id text,
  total integer NOT NULL,
  created_at timestamptz NOT NULL,
  finished_at timestamptz,
  last_progress_at timestamptz
);

CREATE TABLE deliveries (
  broadcast_id integer NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
  channel text NOT NULL,
  user_id text NOT NULL,
  commune text NOT NULL,
  locale text NOT NULL,
  -- pending → sending → sent | failed | unreachable | outside_window | unknown | cancelled
  -- 'sending' is committed before the platform is called; a row found in 'sending' after its claim expired was
  -- in flight when a process died: it becomes 'unknown' and is never sent again (never twice).
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  claimed_until timestamptz,
  last_error text,
  sent_at timestamptz,
  PRIMARY KEY (broadcast_id, channel, user_id)
);

CREATE INDEX deliveries_due ON deliveries (channel, next_attempt_at) WHERE status = 'pending';

CREATE INDEX deliveries_in_flight ON deliveries (claimed_until) WHERE status = 'sending';

-- An officials' group composing an announcement (/thongbao): which question it is at and the answers so far.
CREATE TABLE broadcast_drafts (
  chat_id text PRIMARY KEY,
  step text NOT NULL,
  data jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);
