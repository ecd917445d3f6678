//! Object identifiers this CA writes or recognises, as dotted arcs.

pub type Oid = &'static [u32];

// Keys.
pub const RSA_ENCRYPTION: Oid = &[1, 2, 840, 113549, 1, 1, 1];
pub const EC_PUBLIC_KEY: Oid = &[1, 2, 840, 10045, 2, 1];
pub const PRIME256V1: Oid = &[1, 2, 840, 10045, 3, 1, 7];

// Signatures.
pub const MD2_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 2];
pub const MD5_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 4];
pub const SHA1_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 5];
pub const RSASSA_PSS: Oid = &[1, 2, 840, 113549, 1, 1, 10];
pub const SHA256_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 11];
pub const SHA384_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 12];
pub const SHA512_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 13];
pub const ECDSA_WITH_SHA1: Oid = &[1, 2, 840, 10045, 4, 1];
pub const ECDSA_WITH_SHA256: Oid = &[1, 2, 840, 10045, 4, 3, 2];
pub const ECDSA_WITH_SHA384: Oid = &[1, 2, 840, 10045, 4, 3, 3];
pub const ECDSA_WITH_SHA512: Oid = &[1, 2, 840, 10045, 4, 3, 4];

// Distinguished name attributes.
pub const COMMON_NAME: Oid = &[2, 5, 4, 3];
pub const SERIAL_NUMBER: Oid = &[2, 5, 4, 5];
pub const COUNTRY: Oid = &[2, 5, 4, 6];
pub const ORGANIZATION: Oid = &[2, 5, 4, 10];
pub const ORGANIZATIONAL_UNIT: Oid = &[2, 5, 4, 11];

// Certificate and CRL extensions.
pub const SUBJECT_KEY_ID: Oid = &[2, 5, 29, 14];
pub const KEY_USAGE: Oid = &[2, 5, 29, 15];
pub const BASIC_CONSTRAINTS: Oid = &[2, 5, 29, 19];
pub const CRL_NUMBER: Oid = &[2, 5, 29, 20];
pub const REASON_CODE: Oid = &[2, 5, 29, 21];
pub const CRL_DISTRIBUTION_POINTS: Oid = &[2, 5, 29, 31];
pub const AUTHORITY_KEY_ID: Oid = &[2, 5, 29, 35];
pub const EXT_KEY_USAGE: Oid = &[2, 5, 29, 37];
pub const AUTHORITY_INFO_ACCESS: Oid = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
pub const CLIENT_AUTH: Oid = &[1, 3, 6, 1, 5, 5, 7, 3, 2];
pub const AD_OCSP: Oid = &[1, 3, 6, 1, 5, 5, 7, 48, 1];
pub const AD_CA_ISSUERS: Oid = &[1, 3, 6, 1, 5, 5, 7, 48, 2];

/// Whether a parsed OID (content octets) is `arcs`.
pub fn is(parsed: &x509_parser::der_parser::oid::Oid<'_>, arcs: Oid) -> bool {
    let encoded = crate::der::oid(arcs);
    encoded.get(2..) == Some(parsed.as_bytes())
}
