-- Pre-produced OCSP answers (RFC 6960 section 2.5, RFC 5019): one signed response per issued
-- certificate, replaced in the transaction that changes the certificate's status and by the
-- refresh job before next_update, so answering a request costs a lookup, not a signature.
-- Times are Unix seconds (UTC).
CREATE TABLE ocsp_responses (
    serial_hex   TEXT    PRIMARY KEY REFERENCES certificates (serial_hex),
    this_update  BIGINT  NOT NULL,              -- also producedAt
    next_update  BIGINT  NOT NULL,
    responder    TEXT    NOT NULL,              -- SHA-256 of the responder certificate that signed
    der          BYTEA   NOT NULL               -- the whole OCSPResponse
);
CREATE INDEX ocsp_responses_next_update ON ocsp_responses (next_update);
