-- Venues (public places that must post a QR code), their visitors' check-ins, and the audit log of tracing.

CREATE TABLE venues (
  id serial PRIMARY KEY,
  -- DD-YYMMDD-NNNN: what owners and officials say on the phone.
  reference text NOT NULL UNIQUE,
  -- Random code in the poster's QR (check-in links); never sequential, so it cannot be guessed from another.
  code text NOT NULL UNIQUE,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('office', 'market', 'shop', 'eatery', 'lodging', 'school', 'clinic', 'vehicle', 'other')),
  -- A bus or coach's plate number.
  plate text,
  commune text NOT NULL,
  address text NOT NULL,
  -- Name and address without case, diacritics or punctuation: one place is registered once per commune.
  place_key text NOT NULL,
  -- The owner (personal data: cleared by "delete my data"); null for places added by officials.
  owner_name text,
  owner_phone text,
  owner_channel text,
  owner_user_id text,
  status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
  source text NOT NULL CHECK (source IN ('owner', 'field')),
  -- The owner says the place is registered on the national system and its QR is posted.
  national_qr_at timestamptz,
  national_qr_photo text,
  -- An official checked the place on site.
  checked_on_site_at timestamptz,
  notice_chat_id text,
  decided_by text,
  decided_at timestamptz,
  idempotency_key text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX venues_one_per_place ON venues (commune, place_key) WHERE status <> 'rejected';

CREATE INDEX venues_by_commune ON venues (commune, status);

CREATE INDEX venues_by_owner ON venues (owner_channel, owner_user_id);

CREATE TABLE venue_checkins (
  id bigserial PRIMARY KEY,
  venue_id integer NOT NULL REFERENCES venues (id) ON DELETE CASCADE,
  commune text NOT NULL,
  -- The visitor's chat account; null for a visitor checked in by staff ("khai báo hộ").
  channel text,
  user_id text,
  name text NOT NULL,
  phone text NOT NULL,
  -- channel:userId of the staff member who checked the visitor in.
  assisted_by text,
  checked_in_at timestamptz NOT NULL,
  checked_out_at timestamptz,
  idempotency_key text NOT NULL UNIQUE,
  delete_after timestamptz NOT NULL
);

CREATE INDEX venue_checkins_by_venue ON venue_checkins (venue_id, checked_in_at);

CREATE INDEX venue_checkins_by_user ON venue_checkins (channel, user_id, checked_in_at);

CREATE INDEX venue_checkins_by_delete_after ON venue_checkins (delete_after);

-- Name and phone a visitor gave once, used for their next check-ins; deleted with their last check-in.
CREATE TABLE venue_visitors (
  channel text NOT NULL,
  user_id text NOT NULL,
  name text NOT NULL,
  phone text NOT NULL,
  delete_after timestamptz NOT NULL,
  PRIMARY KEY (channel, user_id)
);

-- Every view, export or use of visitors' personal data by an official.
CREATE TABLE venue_audit_log (
  id serial PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  scope text NOT NULL,
  action text NOT NULL,
  venue_id integer,
  detail jsonb NOT NULL
);
