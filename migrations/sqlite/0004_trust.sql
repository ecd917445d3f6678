-- Production trust (issue 12). Keep in step with migrations/postgres/0004_trust.sql.

-- Operator roles (least privilege). Accounts made before roles existed could do everything:
-- they become administrators.
ALTER TABLE operators ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
    CHECK (role IN ('cashier', 'officer', 'auditor', 'admin'));

-- The company name the IC-card certificate proves; NULL for sessions without a card.
ALTER TABLE sessions ADD COLUMN company_name TEXT;

-- The RFC 5280 reason of the current revocation or hold (written into the CRL), and who
-- placed the current hold: 'company:<tax id>' or 'operator:<username>'.
ALTER TABLE certificates ADD COLUMN status_reason TEXT;
ALTER TABLE certificates ADD COLUMN hold_placed_by TEXT;
