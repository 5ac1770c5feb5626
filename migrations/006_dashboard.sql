-- The officials' dashboard (/admin): campaign marks of the people who confirmed installing the app, field figures
-- typed by commune officers, sign-in (one-time links, sessions, password accounts) and the audit log.

-- Asked once in the tracing-app flow: is the person an official (of which agency or commune office), and have they
-- declared on tokhaiyte / in the app. NULL: not asked yet.
CREATE TABLE campaign_people (
  channel text NOT NULL,
  user_id text NOT NULL,
  commune text NOT NULL,
  -- 'agency:<id>', 'commune:<id>', 'none' (not an official) or 'skipped' (did not say).
  official_unit text,
  official_at timestamptz,
  declared boolean,
  declared_at timestamptz,
  PRIMARY KEY (channel, user_id)
);

CREATE INDEX campaign_people_by_unit ON campaign_people (official_unit);

-- Marks of people who asked for their data to be deleted: kept only as numbers, like app_installs_anonymous.
-- mark: 'official' (an official of `unit`), 'official_installed', 'declared' (unit is then 'commune:<id>').
CREATE TABLE campaign_people_anonymous (
  unit text NOT NULL,
  mark text NOT NULL,
  n integer NOT NULL,
  PRIMARY KEY (unit, mark)
);

-- "Đi từng ngõ, gõ từng nhà, rà từng điện thoại": what commune officers did on a day, typed by them.
CREATE TABLE field_reports (
  id serial PRIMARY KEY,
  commune text NOT NULL,
  day date NOT NULL,
  households_visited integer NOT NULL CHECK (households_visited >= 0),
  phones_checked integer NOT NULL CHECK (phones_checked >= 0),
  installs_helped integer NOT NULL CHECK (installs_helped >= 0),
  entered_by text NOT NULL,
  entered_at timestamptz NOT NULL,
  -- The form's one-time token: a form posted twice stores one row.
  idempotency_key text NOT NULL UNIQUE
);

CREATE INDEX field_reports_by_commune_day ON field_reports (commune, day);

-- One-time sign-in links sent in a private chat after /dangnhap in an officials' group; only the hash is kept.
CREATE TABLE admin_login_tokens (
  token_hash text PRIMARY KEY,
  identity jsonb NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL
);

CREATE TABLE admin_sessions (
  id_hash text PRIMARY KEY,
  identity jsonb NOT NULL,
  csrf text NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE INDEX admin_sessions_by_expiry ON admin_sessions (expires_at);

-- Officials without Telegram: created by a district official; password hashed with scrypt.
CREATE TABLE admin_accounts (
  username text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('district', 'commune')),
  commune text,
  password_hash text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  disabled_at timestamptz
);

-- Every view of a personal record and every export, with who and when.
CREATE TABLE audit_log (
  id serial PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  actor_name text NOT NULL,
  action text NOT NULL,
  subject text NOT NULL,
  detail jsonb
);

CREATE INDEX audit_log_by_at ON audit_log (at);
