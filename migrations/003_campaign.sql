-- Campaign figures: people who confirmed installing the contact-tracing app, once each, per commune.

CREATE TABLE app_installs (
  channel text NOT NULL,
  user_id text NOT NULL,
  commune text NOT NULL,
  confirmed_at timestamptz NOT NULL,
  PRIMARY KEY (channel, user_id)
);

-- Confirmations of people who later asked for their data to be deleted: kept only as a number per commune.
CREATE TABLE app_installs_anonymous (
  commune text PRIMARY KEY,
  n integer NOT NULL
);
