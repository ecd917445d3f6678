-- Core schema of the portal. Times are Unix seconds (UTC); money is whole NT$.
-- Keep in step with migrations/sqlite/0001_core.sql (same tables, columns and rules).

CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value BIGINT  NOT NULL
);

CREATE TABLE operators (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,              -- argon2id PHC string
    display_name  TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    disabled      BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY,            -- SHA-256 of the cookie value, hex
    role         TEXT    NOT NULL CHECK (role IN ('applicant', 'operator')),
    tax_id       TEXT,                           -- applicants
    username     TEXT,                           -- operators
    operator_id  BIGINT  REFERENCES operators (id),
    display_name TEXT    NOT NULL,
    csrf_token   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL                -- absolute limit
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE card_challenges (
    id         TEXT    PRIMARY KEY,
    tbs        TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT
);

CREATE TABLE applications (
    id                 BIGSERIAL PRIMARY KEY,
    serial             TEXT    NOT NULL UNIQUE,   -- SW + Taipei date + daily sequence
    tax_id             TEXT    NOT NULL,
    app_type           TEXT    NOT NULL CHECK (app_type IN ('new', 'modify', 'renew', 'revoke', 'suspend', 'unsuspend')),
    status             TEXT    NOT NULL CHECK (status IN ('10', '20', 'A0', 'A9')),
    target_id          BIGINT  REFERENCES applications (id),
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
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);
CREATE INDEX applications_company ON applications (tax_id, created_at);
CREATE INDEX applications_status ON applications (status);
CREATE INDEX applications_target ON applications (target_id);

CREATE TABLE bills (
    id             BIGSERIAL PRIMARY KEY,
    bill_no        TEXT    NOT NULL UNIQUE,       -- AAF + ROC year + month + monthly sequence
    application_id BIGINT  NOT NULL UNIQUE REFERENCES applications (id),
    amount         BIGINT  NOT NULL,
    issued_at      BIGINT  NOT NULL,
    due_at         BIGINT  NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('unpaid', 'paid', 'void')),
    paid_at        BIGINT,
    paid_on        TEXT,                          -- YYYY-MM-DD from the payment record
    paid_amount    BIGINT,
    paid_via       TEXT,                          -- 'operator' or 'reconciliation'
    voided_at      BIGINT
);
CREATE INDEX bills_due ON bills (status, due_at);

CREATE TABLE certificates (
    id                  BIGSERIAL PRIMARY KEY,
    application_id      BIGINT  NOT NULL UNIQUE REFERENCES applications (id),  -- one per application
    serial_hex          TEXT    NOT NULL UNIQUE,
    tax_id              TEXT    NOT NULL,
    cert_name           TEXT    NOT NULL,
    organization        TEXT    NOT NULL,
    organizational_unit TEXT,
    spki_der            BYTEA   NOT NULL,
    csr_sha256          TEXT    NOT NULL,
    key_info            TEXT    NOT NULL,
    not_before          BIGINT  NOT NULL,
    not_after           BIGINT  NOT NULL,
    requested_at        BIGINT  NOT NULL,
    cert_der            BYTEA,                     -- set once, right after the row is stored
    issued_at           BIGINT,
    status              TEXT    NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'suspended', 'revoked')),
    status_changed_at   BIGINT                    -- revocation or hold time
);
CREATE INDEX certificates_company ON certificates (tax_id);
CREATE INDEX certificates_status ON certificates (status);

CREATE TABLE registrations (
    id             BIGSERIAL PRIMARY KEY,
    certificate_id BIGINT  NOT NULL UNIQUE REFERENCES certificates (id),
    staff_name     TEXT    NOT NULL,
    customs_office TEXT    NOT NULL,
    broker_code    TEXT    NOT NULL,
    cert_type      TEXT    NOT NULL,
    registered_at  BIGINT  NOT NULL
);

CREATE TABLE crls (
    crl_number     BIGINT  PRIMARY KEY,
    this_update    BIGINT  NOT NULL,
    next_update    BIGINT  NOT NULL,
    ca_fingerprint TEXT    NOT NULL,              -- SHA-256 of the signing CA certificate
    der            BYTEA   NOT NULL
);

CREATE TABLE audit_log (
    id                 BIGSERIAL PRIMARY KEY,
    at                 BIGINT  NOT NULL,
    actor              TEXT    NOT NULL,
    action             TEXT    NOT NULL,
    application_serial TEXT,
    certificate_serial TEXT,
    csr_sha256         TEXT,
    detail             TEXT    NOT NULL          -- JSON, never secrets
);
CREATE INDEX audit_log_application ON audit_log (application_serial);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
