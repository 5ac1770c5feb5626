-- Photos sent from the web chat when a flow asks for one (issue 14). Telegram keeps its photos (the answer holds
-- the file id) and Zalo its images (the answer holds the URL); the web has no such platform, so the bytes are kept
-- here and the answer holds `web-photo:<id>`, a reference like theirs.
-- Personal data: the owner is a keyed hash of the chat's id (like an anonymous report's), never the id itself.
-- Erased with the person; kept only while a record or a venue refers to it, and a day for an unfinished form.
CREATE TABLE web_photos (
  id serial PRIMARY KEY,
  owner_hash text NOT NULL,
  -- The upload's event id: a retried upload stores nothing twice.
  event_id text NOT NULL,
  content_type text NOT NULL,
  bytes bytea NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (owner_hash, event_id)
);

CREATE INDEX web_photos_owner ON web_photos (owner_hash);
