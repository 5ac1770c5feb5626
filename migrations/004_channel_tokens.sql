-- The newest OAuth token pair of a channel (Zalo's refresh token is single use and rotates): durable and shared by
-- every process, written before the new access token is used.
CREATE TABLE channel_tokens (
  channel text PRIMARY KEY,
  pair jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);
