-- Transactional outbox: a row is written in the same transaction as the status change that
-- causes the mail; the mailer worker claims, sends and marks rows. Times are Unix seconds (UTC).
CREATE TABLE mail_outbox (
    id                BIGSERIAL PRIMARY KEY,
    message_id        TEXT    NOT NULL UNIQUE,   -- RFC 5322 Message-ID, fixed at enqueue time
    application_serial TEXT,
    kind              TEXT    NOT NULL,          -- mailer::MailKind::code()
    to_addr           TEXT    NOT NULL,
    subject           TEXT    NOT NULL,
    body_text         TEXT    NOT NULL,
    state             TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   BIGINT  NOT NULL,
    lease_until       BIGINT ,
    last_error        TEXT,
    created_at        BIGINT  NOT NULL,
    sent_at           BIGINT 
);
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
