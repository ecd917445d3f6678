-- 繳納證號: the payment receipt number, given when a payment is recorded by an operator or
-- imported from the bank file (NULL for bills paid before this migration and for unpaid
-- ones). Unique, so a receipt names one payment.
ALTER TABLE bills ADD COLUMN receipt_no TEXT;
CREATE UNIQUE INDEX bills_receipt_no ON bills (receipt_no);

-- The grids page newest first by (created_at, id): the applicant's within its company
-- (tax_id, created_at, id), the operator's over every company (created_at, id).
DROP INDEX applications_company;
CREATE INDEX applications_company ON applications (tax_id, created_at, id);
CREATE INDEX applications_created ON applications (created_at, id);
