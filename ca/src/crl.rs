//! X.509 v2 certificate revocation lists (RFC 5280 section 5).

use time::{Duration, OffsetDateTime};

use crate::cert::{self, time as der_time};
use crate::{Ca, CaError, Profile, RevocationKind, RevokedEntry, der, ext};

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
    let mut revoked = Vec::new();
    for e in sorted {
        let mut parts = vec![e.serial.to_der(), der_time(e.revoked_at)?];
        match e.kind {
            // No reasonCode: RFC 5280 5.3.1 prefers omitting it over "unspecified".
            RevocationKind::Revoked => {}
            RevocationKind::Hold => parts.push(der::sequence(&[&ext::reason_code(
                ext::REASON_CERTIFICATE_HOLD,
            )])),
        }
        revoked.push(der::tlv(der::SEQUENCE, &parts.concat()));
    }
    let sig_alg = ca.key.signature_algorithm();
    let extensions = der::explicit(
        0,
        &der::sequence(&[
            &ext::authority_key_id(&ca.key_id),
            &ext::crl_number(crl_number),
        ]),
    );
    let mut tbs = vec![
        der::uint(1),
        sig_alg.clone(),
        ca.subject_der.clone(),
        der_time(this_update)?,
        der_time(next_update)?,
    ];
    // An empty list is left out entirely (RFC 5280 5.1.2.6), not written as an empty SEQUENCE.
    if !revoked.is_empty() {
        tbs.push(der::tlv(der::SEQUENCE, &revoked.concat()));
    }
    tbs.push(extensions);
    let tbs = der::tlv(der::SEQUENCE, &tbs.concat());
    cert::signed(&ca.key, &tbs, &sig_alg)
}
