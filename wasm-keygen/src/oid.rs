//! Object identifiers used by the CSR and the PKCS#12 writer.

pub use der::oid::ObjectIdentifier as Oid;

// Keys and signatures.
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub const PRIME256V1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");

// Distinguished name attributes.
pub const COUNTRY: Oid = Oid::new_unwrap("2.5.4.6");
pub const ORGANIZATION: Oid = Oid::new_unwrap("2.5.4.10");
pub const ORGANIZATIONAL_UNIT: Oid = Oid::new_unwrap("2.5.4.11");
pub const SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
pub const COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");

// PKCS#7 content types.
pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
pub const ENCRYPTED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.6");

// PKCS#12 bags and attributes.
pub const PKCS8_SHROUDED_KEY_BAG: Oid = pkcs12::PKCS_12_PKCS8_KEY_BAG_OID;
pub const CERT_BAG: Oid = pkcs12::PKCS_12_CERT_BAG_OID;
pub const X509_CERTIFICATE: Oid = pkcs12::PKCS_12_X509_CERT_OID;
pub const FRIENDLY_NAME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.20");
pub const LOCAL_KEY_ID: Oid = Oid::new_unwrap("1.2.840.113549.1.9.21");

// Password-based encryption and MACs.
pub const PBE_SHA1_3DES: Oid = pkcs12::PKCS_12_PBE_WITH_SHAAND3_KEY_TRIPLE_DES_CBC;
pub const PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
pub const PBKDF2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.12");
pub const HMAC_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.2.9");
pub const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
