-- Per authorization, how many data requests of each resource kind it made
-- each day (no clinical content), for the connected-apps page.
CREATE TABLE access_records (
	authorization_id TEXT NOT NULL,
	day              INTEGER NOT NULL,
	resource_type    TEXT NOT NULL,
	count            INTEGER NOT NULL,
	PRIMARY KEY (authorization_id, day, resource_type)
) STRICT;
CREATE INDEX access_records_day ON access_records (day);
