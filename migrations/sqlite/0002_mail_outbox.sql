-- Transactional outbox: a row is written in the same transaction as the status change that
-- causes the mail; the mailer worker claims, sends and marks rows. Times are Unix seconds (UTC).
CREATE TABLE mail_outbox (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id        TEXT    NOT NULL UNIQUE,   -- RFC 5322 Message-ID, fixed at enqueue time
    application_serial TEXT,
    kind              TEXT    NOT NULL,          -- mailer::MailKind::code()
    to_addr           TEXT    NOT NULL,
    subject           TEXT    NOT NULL,
    body_text         TEXT    NOT NULL,
    state             TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL,
    lease_until       INTEGER,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    sent_at           INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
