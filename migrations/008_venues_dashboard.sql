-- One audit log: venues' tracing views, exports and notices move into the dashboard's audit_log, so that every
-- official's look at personal data is in one place. Old rows are copied (actor "channel:id Name" split into id and
-- name; the venue named by its reference), then the venues' own table goes.

INSERT INTO audit_log (at, actor, actor_name, action, subject, detail)
SELECT l.at,
       split_part(l.actor, ' ', 1),
       CASE WHEN position(' ' IN l.actor) > 0 THEN substr(l.actor, position(' ' IN l.actor) + 1) ELSE l.actor END,
       'venue_' || replace(l.action, '-', '_'),
       CASE WHEN v.reference IS NOT NULL THEN 'venue:' || v.reference WHEN l.venue_id IS NOT NULL THEN 'venue:' || l.venue_id::text ELSE 'venues' END,
       l.detail || jsonb_build_object('scope', l.scope, 'venueId', l.venue_id)
  FROM venue_audit_log l LEFT JOIN venues v ON v.id = l.venue_id
 ORDER BY l.id;

DROP TABLE venue_audit_log;

-- Notices to visitors and owners go out in the language they used: kept with the check-in and the registration.
ALTER TABLE venue_checkins ADD COLUMN locale text;

ALTER TABLE venues ADD COLUMN owner_locale text;
