//! Certificate assembly: TBSCertificate, signature, and the Certificate around them.

use time::OffsetDateTime;

use crate::der;
use crate::key::CaKey;
use crate::{CaError, Serial};

pub(crate) struct Tbs<'a> {
    pub serial: Serial,
    pub issuer: &'a [u8],
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub subject: &'a [u8],
    pub spki: &'a [u8],
    pub extensions: &'a [Vec<u8>],
}

/// Builds the TBSCertificate (version 3) and signs it.
pub(crate) fn build(key: &CaKey, tbs: &Tbs<'_>) -> Result<Vec<u8>, CaError> {
    if tbs.not_after <= tbs.not_before {
        return Err(CaError::Build(
            "notAfter must be later than notBefore".into(),
        ));
    }
    let sig_alg = key.signature_algorithm();
    let validity = der::sequence(&[&time(tbs.not_before)?, &time(tbs.not_after)?]);
    let extensions = der::explicit(3, &der::tlv(der::SEQUENCE, &tbs.extensions.concat()));
    let tbs_der = der::sequence(&[
        &der::explicit(0, &der::uint(2)),
        &tbs.serial.to_der(),
        &sig_alg,
        tbs.issuer,
        &validity,
        tbs.subject,
        tbs.spki,
        &extensions,
    ]);
    signed(key, &tbs_der, &sig_alg)
}

/// `SEQUENCE { tbs, signatureAlgorithm, signatureValue }`, the shape of both Certificate
/// and CertificateList.
pub(crate) fn signed(key: &CaKey, tbs: &[u8], sig_alg: &[u8]) -> Result<Vec<u8>, CaError> {
    let signature = key.sign(tbs)?;
    Ok(der::sequence(&[tbs, sig_alg, &der::bit_string(&signature)]))
}

pub(crate) fn time(t: OffsetDateTime) -> Result<Vec<u8>, CaError> {
    der::time(t).map_err(|e| CaError::Build(e.into()))
}
