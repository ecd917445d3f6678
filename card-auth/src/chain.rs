//! Path building from the card certificate to a configured root.
//!
//! Depth-first over the candidate issuers (intermediates sent with the login plus those in
//! the trust store). For every link: issuer name equals the child's issuer name byte for
//! byte, the child's signature verifies with the issuer's key, the issuer is valid at `now`,
//! has basicConstraints cA=TRUE (with pathLenConstraint honoured), has keyCertSign if it
//! carries keyUsage, and no unknown critical extension. The root is a trust anchor: its
//! own signature is not checked, but the same CA and validity rules apply to it.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;

use crate::cert;
use crate::error::CardAuthError;
use crate::signature;

/// Longest path we try: leaf + this many CA certificates.
const MAX_CAS: usize = 6;

pub(crate) struct Candidates<'a> {
    pub roots: Vec<X509Certificate<'a>>,
    pub intermediates: Vec<X509Certificate<'a>>,
}

/// When `leaf` chains to one of `candidates.roots` at `now`: the certificate that issued
/// `leaf` on that path (where its CRL must come from).
pub(crate) fn verify<'c, 'a>(
    leaf: &X509Certificate<'_>,
    candidates: &'c Candidates<'a>,
    now: OffsetDateTime,
) -> Result<&'c X509Certificate<'a>, CardAuthError> {
    let mut search = Search {
        candidates,
        now,
        best: None,
        leaf_issuer: None,
    };
    if search.extend(leaf, &mut Vec::new())
        && let Some(issuer) = search.leaf_issuer
    {
        return Ok(issuer);
    }
    Err(search.best.unwrap_or_else(|| {
        CardAuthError::UntrustedChain(format!(
            "no trusted issuer \"{}\"",
            cert::name_to_string(leaf.issuer())
        ))
    }))
}

struct Search<'c, 'a> {
    candidates: &'c Candidates<'a>,
    now: OffsetDateTime,
    /// The most specific reason a candidate issuer was refused, reported if no path works.
    best: Option<CardAuthError>,
    /// Set when a path is found: the first CA above the leaf.
    leaf_issuer: Option<&'c X509Certificate<'a>>,
}

impl<'c, 'a> Search<'c, 'a> {
    /// Tries to finish the path above `child`; `used` holds the intermediates already on
    /// the path (to stop loops). `true` when a root was reached.
    fn extend(&mut self, child: &X509Certificate<'_>, used: &mut Vec<usize>) -> bool {
        let depth = used.len();
        if depth >= MAX_CAS {
            self.note(CardAuthError::UntrustedChain("path too long".into()));
            return false;
        }
        let issuer_name = child.issuer().as_raw();
        let candidates = self.candidates;
        for root in &candidates.roots {
            if root.subject().as_raw() == issuer_name && self.accept_issuer(child, root, depth) {
                self.found(depth, root);
                return true;
            }
        }
        for (i, ca) in candidates.intermediates.iter().enumerate() {
            if ca.subject().as_raw() != issuer_name || used.contains(&i) {
                continue;
            }
            if !self.accept_issuer(child, ca, depth) {
                continue;
            }
            used.push(i);
            if self.extend(ca, used) {
                self.found(depth, ca);
                return true;
            }
            used.pop();
        }
        false
    }

    /// Records the leaf's issuer when the path is complete (`depth` 0 is the leaf's link).
    fn found(&mut self, depth: usize, issuer: &'c X509Certificate<'a>) {
        if depth == 0 {
            self.leaf_issuer = Some(issuer);
        }
    }

    /// Whether `issuer` may sign `child` here; records why not.
    fn accept_issuer(
        &mut self,
        child: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
        cas_below: usize,
    ) -> bool {
        match check_link(child, issuer, cas_below, self.now) {
            Ok(()) => true,
            Err(e) => {
                self.note(e);
                false
            }
        }
    }

    /// Keeps the most telling refusal: a validity problem beats a generic "untrusted".
    fn note(&mut self, e: CardAuthError) {
        let specific = !matches!(e, CardAuthError::UntrustedChain(_));
        if self.best.is_none() || specific {
            self.best = Some(e);
        }
    }
}

fn check_link(
    child: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    cas_below: usize,
    now: OffsetDateTime,
) -> Result<(), CardAuthError> {
    let issuer_name = cert::name_to_string(issuer.subject());
    let verified = signature::signed_by(
        issuer,
        &child.signature_algorithm,
        child.tbs_certificate.as_ref(),
        &child.signature_value.data,
    )?;
    if !verified {
        return Err(CardAuthError::UntrustedChain(format!(
            "the signature of \"{}\" does not verify with the key of \"{issuer_name}\"",
            cert::name_to_string(child.subject())
        )));
    }
    check_ca(issuer, cas_below)?;
    cert::check_critical_extensions(issuer)?;
    cert::check_validity(issuer, now)
}

/// basicConstraints cA=TRUE, pathLenConstraint ≥ CAs below, keyCertSign if keyUsage is set.
fn check_ca(issuer: &X509Certificate<'_>, cas_below: usize) -> Result<(), CardAuthError> {
    let name = || cert::name_to_string(issuer.subject());
    let bc = issuer
        .basic_constraints()
        .map_err(|e| CardAuthError::BadCertificate(format!("basicConstraints: {e}")))?;
    let Some(bc) = bc.filter(|bc| bc.value.ca) else {
        return Err(CardAuthError::UntrustedChain(format!(
            "\"{}\" is not a CA (basicConstraints cA)",
            name()
        )));
    };
    if let Some(limit) = bc.value.path_len_constraint
        && cas_below > usize::try_from(limit).unwrap_or(usize::MAX)
    {
        return Err(CardAuthError::UntrustedChain(format!(
            "pathLenConstraint of \"{}\" exceeded",
            name()
        )));
    }
    let ku = issuer
        .key_usage()
        .map_err(|e| CardAuthError::BadCertificate(format!("keyUsage: {e}")))?;
    if ku.is_some_and(|ku| !ku.value.key_cert_sign()) {
        return Err(CardAuthError::UntrustedChain(format!(
            "\"{}\" may not sign certificates (keyUsage)",
            name()
        )));
    }
    Ok(())
}
