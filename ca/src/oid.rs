//! Object identifiers this CA writes or recognises, from `const-oid`'s database; the few it
//! does not name (ecdsa-with-SHA1) are spelled out.

pub(crate) use const_oid::ObjectIdentifier as Oid;
use const_oid::db::{rfc4519, rfc5280, rfc5912, rfc8410};

// Keys.
pub const RSA_ENCRYPTION: Oid = rfc5912::RSA_ENCRYPTION;
pub const EC_PUBLIC_KEY: Oid = rfc5912::ID_EC_PUBLIC_KEY;
pub const PRIME256V1: Oid = rfc5912::SECP_256_R_1;

// Signatures.
pub const MD2_WITH_RSA: Oid = rfc5912::MD_2_WITH_RSA_ENCRYPTION;
pub const MD5_WITH_RSA: Oid = rfc5912::MD_5_WITH_RSA_ENCRYPTION;
pub const SHA1_WITH_RSA: Oid = rfc5912::SHA_1_WITH_RSA_ENCRYPTION;
pub const RSASSA_PSS: Oid = rfc5912::ID_RSASSA_PSS;
pub const SHA256_WITH_RSA: Oid = rfc5912::SHA_256_WITH_RSA_ENCRYPTION;
pub const SHA384_WITH_RSA: Oid = rfc5912::SHA_384_WITH_RSA_ENCRYPTION;
pub const SHA512_WITH_RSA: Oid = rfc5912::SHA_512_WITH_RSA_ENCRYPTION;
pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
pub const ECDSA_WITH_SHA256: Oid = rfc5912::ECDSA_WITH_SHA_256;
pub const ECDSA_WITH_SHA384: Oid = rfc5912::ECDSA_WITH_SHA_384;
pub const ECDSA_WITH_SHA512: Oid = rfc5912::ECDSA_WITH_SHA_512;
pub const ED25519: Oid = rfc8410::ID_ED_25519;
pub const ED448: Oid = rfc8410::ID_ED_448;
pub const DSA: Oid = rfc5912::ID_DSA;
pub const DSA_WITH_SHA1: Oid = rfc5912::DSA_WITH_SHA_1;

// Distinguished name attributes.
pub const COMMON_NAME: Oid = rfc4519::CN;
pub const SERIAL_NUMBER: Oid = rfc4519::SERIAL_NUMBER;
pub const COUNTRY: Oid = rfc4519::C;
pub const ORGANIZATION: Oid = rfc4519::O;
pub const ORGANIZATIONAL_UNIT: Oid = rfc4519::OU;

// Extensions written by hand-built values.
pub const AUTHORITY_INFO_ACCESS: Oid = rfc5280::ID_PE_AUTHORITY_INFO_ACCESS;
pub const AD_OCSP: Oid = rfc5280::ID_AD_OCSP;
pub const AD_CA_ISSUERS: Oid = rfc5280::ID_AD_CA_ISSUERS;

/// Whether a parsed OID is `o` (both are compared as their DER content octets).
pub fn is(parsed: &x509_parser::der_parser::oid::Oid<'_>, o: &Oid) -> bool {
    parsed.as_bytes() == o.as_bytes()
}

/// The arcs as rcgen wants them.
pub fn arcs(o: &Oid) -> Vec<u64> {
    o.arcs().map(u64::from).collect()
}
