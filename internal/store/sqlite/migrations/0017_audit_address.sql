-- Where a security event came from (the client's network address, as the
-- server judged it), and indexes for the administrators' AuditEvent search
-- by event type and by app.
ALTER TABLE audit_events ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_events_type ON audit_events (type, id);
CREATE INDEX audit_events_client ON audit_events (client_id, id);
