-- Notices that are never silently given up, never flood a group, and are redacted when the citizen erases their data.

-- The platform's ids of the messages a notice became, so that they can be edited after an erasure.
ALTER TABLE notices ADD COLUMN sent_message_ids jsonb;

-- A redaction: the messages in sent_message_ids are to be edited to this text (the citizen erased their data). The
-- row then holds no personal data: the group's chat id, the message ids and this text.
ALTER TABLE notices ADD COLUMN redact_text text;

-- Since when the recipient cannot be reached (the bot was removed from the group): the notice waits for the bot to
-- be back, then goes to the district group after a bounded time.
ALTER TABLE notices ADD COLUMN waiting_since timestamptz;

-- Held back because the group had its ceiling of notices for the minute: sent as part of one digest message.
ALTER TABLE notices ADD COLUMN held_at timestamptz;

-- A digest of the notices held back for one group (its text is composed when it is sent).
ALTER TABLE notices ADD COLUMN digest boolean NOT NULL DEFAULT false;

CREATE INDEX notices_by_recipient ON notices (channel, recipient, sent_at);

CREATE INDEX deliveries_by_user ON deliveries (channel, user_id);
