//! Object identifiers used by the CSR and the PKCS#12 writer, as dotted arcs.

pub type Oid = &'static [u32];

// Keys and signatures.
pub const RSA_ENCRYPTION: Oid = &[1, 2, 840, 113549, 1, 1, 1];
pub const SHA256_WITH_RSA: Oid = &[1, 2, 840, 113549, 1, 1, 11];
pub const EC_PUBLIC_KEY: Oid = &[1, 2, 840, 10045, 2, 1];
pub const PRIME256V1: Oid = &[1, 2, 840, 10045, 3, 1, 7];
pub const ECDSA_WITH_SHA256: Oid = &[1, 2, 840, 10045, 4, 3, 2];

// Distinguished name attributes.
pub const COUNTRY: Oid = &[2, 5, 4, 6];
pub const ORGANIZATION: Oid = &[2, 5, 4, 10];
pub const ORGANIZATIONAL_UNIT: Oid = &[2, 5, 4, 11];
pub const SERIAL_NUMBER: Oid = &[2, 5, 4, 5];
pub const COMMON_NAME: Oid = &[2, 5, 4, 3];

// PKCS#7 content types.
pub const DATA: Oid = &[1, 2, 840, 113549, 1, 7, 1];
pub const ENCRYPTED_DATA: Oid = &[1, 2, 840, 113549, 1, 7, 6];

// PKCS#12 bags and attributes.
pub const PKCS8_SHROUDED_KEY_BAG: Oid = &[1, 2, 840, 113549, 1, 12, 10, 1, 2];
pub const CERT_BAG: Oid = &[1, 2, 840, 113549, 1, 12, 10, 1, 3];
pub const X509_CERTIFICATE: Oid = &[1, 2, 840, 113549, 1, 9, 22, 1];
pub const FRIENDLY_NAME: Oid = &[1, 2, 840, 113549, 1, 9, 20];
pub const LOCAL_KEY_ID: Oid = &[1, 2, 840, 113549, 1, 9, 21];

// Password-based encryption and MACs.
pub const PBE_SHA1_3DES: Oid = &[1, 2, 840, 113549, 1, 12, 1, 3];
pub const PBES2: Oid = &[1, 2, 840, 113549, 1, 5, 13];
pub const PBKDF2: Oid = &[1, 2, 840, 113549, 1, 5, 12];
pub const HMAC_WITH_SHA256: Oid = &[1, 2, 840, 113549, 2, 9];
pub const AES256_CBC: Oid = &[2, 16, 840, 1, 101, 3, 4, 1, 42];
pub const SHA1: Oid = &[1, 3, 14, 3, 2, 26];
pub const SHA256: Oid = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
