-- State that several portal instances on one database must share (issue 16.1, 12.5).
--
-- Rate-limit events: one row per counted event (a failed login, a card challenge) under a key
-- such as 'ip:203.0.113.7' or 'acct_ip:operator:alice|203.0.113.7'. A limit counts the rows of
-- its key inside a sliding window; old rows are purged by the housekeeping job.
CREATE TABLE rate_events (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    key  TEXT    NOT NULL,
    at   INTEGER NOT NULL
);
CREATE INDEX rate_events_key_at ON rate_events (key, at);
CREATE INDEX rate_events_at ON rate_events (at);

-- Leases of periodic jobs: the instance that holds a job's row until `until` runs it; the
-- others skip that round. A crashed holder's lease simply runs out.
CREATE TABLE job_leases (
    name   TEXT    PRIMARY KEY,
    holder TEXT    NOT NULL,
    until  INTEGER NOT NULL
);
