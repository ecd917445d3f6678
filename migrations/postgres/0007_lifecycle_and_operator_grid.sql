-- Certificate lifecycle after issuance (renewal, expiry reminders, personal-data retention)
-- and the operator's grid. Keep in step with the other backend's 0007.

-- One expiry reminder per certificate and threshold: the reminder job inserts the row in the
-- same transaction as the outbox row, so a second run (or a second instance) finds it and
-- queues nothing.
CREATE TABLE expiry_reminders (
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    days_before    BIGINT NOT NULL,
    queued_at      BIGINT NOT NULL,
    PRIMARY KEY (certificate_id, days_before)
);

-- When the retention job erased the contact and national ID of the application (NULL: kept).
ALTER TABLE applications ADD COLUMN personal_data_erased_at BIGINT;

-- The operator's grid pages by status or by company name (newest first by 0006's applications_created).
CREATE INDEX applications_status_created ON applications (status, created_at, id);
CREATE INDEX applications_company_name ON applications (company_name, id);
CREATE INDEX certificates_not_after ON certificates (not_after);
