-- Reach everyone (issue 17): senders that resume within seconds, urgent announcements resent after a crash,
-- Zalo followers outside the 7-day window, and the "new announcements" box.

-- Which sender process holds a claim. A sender writes its heartbeat every second; the claims of a sender whose
-- heartbeat stopped (killed) are taken over within seconds instead of after the whole lease.
ALTER TABLE deliveries ADD COLUMN claimed_by text;

-- How many times this delivery was in flight when its sender died. General announcements then stay `unknown`
-- (at most once); urgent ones go back to `pending` and are sent again (at least once).
ALTER TABLE deliveries ADD COLUMN lost_in_flight integer NOT NULL DEFAULT 0;

CREATE TABLE broadcast_senders (
  sender_id text PRIMARY KEY,
  alive_until timestamptz NOT NULL
);

-- Announcements waiting for a person who cannot be messaged now (Zalo outside the 7-day window, Telegram blocked,
-- the web chat): shown at the top of their next conversation, newest first, once each. Personal data (who): erased
-- with the person, and deleted after the retention period of the locality file (or once shown and a day old).
CREATE TABLE announcement_box (
  channel text NOT NULL,
  user_id text NOT NULL,
  broadcast_id integer NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
  added_at timestamptz NOT NULL,
  shown_at timestamptz,
  -- The event that showed it: a redelivered event shows the same announcements again, a new event none.
  shown_event text,
  PRIMARY KEY (channel, user_id, broadcast_id)
);

CREATE INDEX announcement_box_waiting ON announcement_box (channel, user_id) WHERE shown_at IS NULL;

-- The phone a Zalo follower shared with the OA (user_submit_info), for approved template messages of urgent
-- announcements when they are outside the 7-day window. Personal data: erased with the person, retention applies.
CREATE TABLE zalo_shared_phones (
  user_id text PRIMARY KEY,
  phone text NOT NULL,
  shared_at timestamptz NOT NULL
);

-- The one OA article broadcast of a general announcement (created once, whichever process gets there first).
CREATE TABLE broadcast_articles (
  broadcast_id integer PRIMARY KEY REFERENCES broadcasts (id) ON DELETE CASCADE,
  -- sending → sent | failed
  status text NOT NULL,
  article_id text,
  error text,
  started_at timestamptz NOT NULL
);

-- A voice message becomes a "call back" record (its recording and, if shared, the phone), handled, kept and erased
-- like a report.
ALTER TABLE records DROP CONSTRAINT records_kind_check;

ALTER TABLE records ADD CONSTRAINT records_kind_check CHECK (kind IN ('declaration', 'symptoms', 'entrant', 'callback'));
