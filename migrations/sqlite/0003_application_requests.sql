-- Idempotency keys of application creation: a client that retries POST /api/applications
-- with the same Idempotency-Key after losing the answer gets the application it already
-- made instead of a second one (with a second bill and a second mail). Keys are per company.
CREATE TABLE application_requests (
    tax_id          TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,   -- SHA-256 (hex) of the form as received
    application_id  INTEGER NOT NULL REFERENCES applications (id),
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (tax_id, idempotency_key)
);
