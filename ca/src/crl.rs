//! X.509 v2 certificate revocation lists (RFC 5280 section 5), built with rcgen: version 2,
//! authorityKeyIdentifier and cRLNumber, one entry per certificate with its reason code.

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams};
use time::{Duration, OffsetDateTime};

use crate::cert::utc;
use crate::key::RcgenSigner;
use crate::{Ca, CaError, Profile, RevocationReason, RevokedEntry};

impl RevocationReason {
    fn rcgen(self) -> rcgen::RevocationReason {
        match self {
            RevocationReason::Unspecified => rcgen::RevocationReason::Unspecified,
            RevocationReason::KeyCompromise => rcgen::RevocationReason::KeyCompromise,
            RevocationReason::AffiliationChanged => rcgen::RevocationReason::AffiliationChanged,
            RevocationReason::Superseded => rcgen::RevocationReason::Superseded,
            RevocationReason::CessationOfOperation => rcgen::RevocationReason::CessationOfOperation,
            RevocationReason::CertificateHold => rcgen::RevocationReason::CertificateHold,
            RevocationReason::PrivilegeWithdrawn => rcgen::RevocationReason::PrivilegeWithdrawn,
        }
    }
}

pub(crate) fn crl(
    ca: &Ca,
    profile: &Profile,
    crl_number: u64,
    this_update: OffsetDateTime,
    entries: &[RevokedEntry],
) -> Result<Vec<u8>, CaError> {
    if profile.crl_validity_hours == 0 {
        return Err(CaError::Build(
            "crl_validity_hours must be at least 1".into(),
        ));
    }
    let next_update = this_update + Duration::hours(i64::from(profile.crl_validity_hours));
    // Sorted by serial so the same set gives the same CRL whatever order the caller used.
    let mut sorted: Vec<&RevokedEntry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.serial.0);
    if let Some(dup) = sorted.windows(2).find(|w| w[0].serial == w[1].serial) {
        return Err(CaError::Build(format!(
            "serial {} is listed twice",
            dup[0].serial.to_hex()
        )));
    }
    let revoked_certs = sorted
        .into_iter()
        .map(|e| RevokedCertParams {
            serial_number: rcgen::SerialNumber::from_slice(&e.serial.0),
            revocation_time: utc(e.revoked_at),
            // `Unspecified` is written as no reasonCode at all (RFC 5280 5.3.1 prefers
            // omitting it); rcgen leaves it out.
            reason_code: Some(e.reason.rcgen()),
            invalidity_date: None,
        })
        .collect();
    let params = CertificateRevocationListParams {
        this_update: utc(this_update),
        next_update: utc(next_update),
        crl_number: rcgen::SerialNumber::from(crl_number),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::PreSpecified(ca.key_id.clone()),
    };
    let signer = RcgenSigner::new(&ca.key);
    let issuer = rcgen::Issuer::from_params(&ca.issuer, &signer);
    let crl = params.signed_by(&issuer).map_err(|e| signer.error(e))?;
    Ok(crl.der().to_vec())
}
