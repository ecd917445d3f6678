-- Core schema of the portal. Times are Unix seconds (UTC); money is whole NT$.
-- Keep in step with migrations/postgres/0001_core.sql (same tables, columns and rules).

CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE operators (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,              -- argon2id PHC string
    display_name  TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY,            -- SHA-256 of the cookie value, hex
    role         TEXT    NOT NULL CHECK (role IN ('applicant', 'operator')),
    tax_id       TEXT,                           -- applicants
    username     TEXT,                           -- operators
    operator_id  INTEGER REFERENCES operators (id),
    display_name TEXT    NOT NULL,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL                -- absolute limit
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE card_challenges (
    id         TEXT    PRIMARY KEY,
    tbs        TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE applications (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    serial             TEXT    NOT NULL UNIQUE,   -- SW + Taipei date + daily sequence
    tax_id             TEXT    NOT NULL,
    app_type           TEXT    NOT NULL CHECK (app_type IN ('new', 'modify', 'renew', 'revoke', 'suspend', 'unsuspend')),
    status             TEXT    NOT NULL CHECK (status IN ('10', '20', 'A0', 'A9')),
    target_id          INTEGER REFERENCES applications (id),
    company_name       TEXT    NOT NULL,
    company_phone      TEXT    NOT NULL,
    company_fax        TEXT    NOT NULL,
    responsible_person TEXT    NOT NULL,
    responsible_phone  TEXT    NOT NULL,
    contact_name       TEXT    NOT NULL,
    contact_phone      TEXT    NOT NULL,
    contact_mobile     TEXT    NOT NULL,
    contact_email      TEXT    NOT NULL,
    customs_office     TEXT    NOT NULL,
    business_type      TEXT    NOT NULL,
    box_number         TEXT    NOT NULL,
    cert_kind          TEXT    NOT NULL,
    staff_code         TEXT    NOT NULL,
    staff_national_id  TEXT    NOT NULL,
    cert_name          TEXT,                      -- issuing types only
    reason             TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX applications_company ON applications (tax_id, created_at);
CREATE INDEX applications_status ON applications (status);
CREATE INDEX applications_target ON applications (target_id);

CREATE TABLE bills (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    bill_no        TEXT    NOT NULL UNIQUE,       -- AAF + ROC year + month + monthly sequence
    application_id INTEGER NOT NULL UNIQUE REFERENCES applications (id),
    amount         INTEGER NOT NULL,
    issued_at      INTEGER NOT NULL,
    due_at         INTEGER NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('unpaid', 'paid', 'void')),
    paid_at        INTEGER,
    paid_on        TEXT,                          -- YYYY-MM-DD from the payment record
    paid_amount    INTEGER,
    paid_via       TEXT,                          -- 'operator' or 'reconciliation'
    voided_at      INTEGER
);
CREATE INDEX bills_due ON bills (status, due_at);

CREATE TABLE certificates (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id      INTEGER NOT NULL UNIQUE REFERENCES applications (id),  -- one per application
    serial_hex          TEXT    NOT NULL UNIQUE,
    tax_id              TEXT    NOT NULL,
    cert_name           TEXT    NOT NULL,
    organization        TEXT    NOT NULL,
    organizational_unit TEXT,
    spki_der            BLOB    NOT NULL,
    csr_sha256          TEXT    NOT NULL,
    key_info            TEXT    NOT NULL,
    not_before          INTEGER NOT NULL,
    not_after           INTEGER NOT NULL,
    requested_at        INTEGER NOT NULL,
    cert_der            BLOB,                     -- set once, right after the row is stored
    issued_at           INTEGER,
    status              TEXT    NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'suspended', 'revoked')),
    status_changed_at   INTEGER                   -- revocation or hold time
);
CREATE INDEX certificates_company ON certificates (tax_id);
CREATE INDEX certificates_status ON certificates (status);

CREATE TABLE registrations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    certificate_id INTEGER NOT NULL UNIQUE REFERENCES certificates (id),
    staff_name     TEXT    NOT NULL,
    customs_office TEXT    NOT NULL,
    broker_code    TEXT    NOT NULL,
    cert_type      TEXT    NOT NULL,
    registered_at  INTEGER NOT NULL
);

CREATE TABLE crls (
    crl_number     INTEGER PRIMARY KEY,
    this_update    INTEGER NOT NULL,
    next_update    INTEGER NOT NULL,
    ca_fingerprint TEXT    NOT NULL,              -- SHA-256 of the signing CA certificate
    der            BLOB    NOT NULL
);

CREATE TABLE audit_log (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    at                 INTEGER NOT NULL,
    actor              TEXT    NOT NULL,
    action             TEXT    NOT NULL,
    application_serial TEXT,
    certificate_serial TEXT,
    csr_sha256         TEXT,
    detail             TEXT    NOT NULL          -- JSON, never secrets
);
CREATE INDEX audit_log_application ON audit_log (application_serial);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
