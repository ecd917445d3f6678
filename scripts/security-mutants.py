#!/usr/bin/env python3
"""Proof that each security rule of issue 12 is held by its test: for every rule, undo the
guard in the code (one small edit, as the code was before the rule), run the rule's test and
expect it to FAIL; then put the code back. A test that still passes with its guard removed
proves nothing, and the run says so and exits 1.

Usage (from a checkout whose tests pass; it edits files in place and restores them):
    scripts/security-mutants.py            # every rule
    scripts/security-mutants.py 12.2 12.5  # only these rules
Needs what `cargo test -p server` needs (PostgreSQL, openssl, the venv's python; see
scripts/test.sh). Takes about two minutes per rule on two cores (a rebuild each).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (rule, what the edit undoes, file, exact text, replacement, cargo test arguments)
MUTANTS = [
    ("12.1", "the development login makes operator sessions",
     "server/src/http/auth.rs",
     "if req.role != Role::Applicant {", "if false {",
     ["-p", "server", "--test", "trust", "dev_login_is_for_applicants_only"]),
    ("12.1", "the development login starts on any address",
     "server/src/config.rs",
     "if self.auth.dev_login && !(self.bind.ip().is_loopback()",
     "if false && !(self.bind.ip().is_loopback()",
     ["-p", "server", "--test", "trust", "dev_login_refuses_to_start_off_loopback"]),
    ("12.1", "the session does not say the development login is on",
     "server/src/http/auth.rs",
     "    if state.config.auth.dev_login {\n        resp.headers_mut()",
     "    if false {\n        resp.headers_mut()",
     ["-p", "server", "--test", "trust", "dev_login_is_for_applicants_only"]),
    ("12.2", "an applicant lifts any hold on its certificate",
     "server/src/domain/transitions.rs",
     "ctx.hold_placed_by == Some(Placer::Company(tax_id))", "{ let _ = tax_id; true }",
     ["-p", "server", "--test", "trust", "holds_belong_to_whoever_placed_them"]),
    ("12.2", "the CRL carries no reason codes",
     "ca/src/crl.rs",
     "reason_code: Some(e.reason.rcgen()),", "reason_code: None,",
     ["-p", "server", "--test", "trust", "revocation_reasons_reach_the_crl"]),
    ("12.3", "the form's company name goes into the certificate",
     "server/src/domain/applications.rs",
     "form.company.name = name.to_owned();", "let _ = name;",
     ["-p", "server", "--test", "trust", "the_verified_company_name_wins"]),
    ("12.4", "a revoked card logs in",
     "card-auth/src/revocation.rs",
     "crl.lookup(query, now).map(|e| (e, crl.next_update))",
     "crl.lookup(query, now).map(|_| (None::<RevokedEntry>, crl.next_update))",
     ["-p", "server", "--test", "card_login",
      "prefer_lets_an_unknown_status_through_but_not_a_revoked_card"]),
    ("12.5", "X-Forwarded-For is believed from anyone",
     "server/src/http/client_ip.rs",
     "    if !is_trusted(&peer) {\n        return peer;\n    }\n", "",
     ["-p", "server", "--test", "scale", "forwarded_headers_from_untrusted_peers_are_ignored"]),
    ("12.5", "logins are limited per address only, not per account",
     "server/src/auth/rate_limit.rs",
     'keys.push((format!("acct:{id}"), l.max_per_account));', "",
     ["-p", "server", "--test", "scale", "an_account_has_a_limit_across_addresses"]),
    ("12.5", "no daily limit on new applications",
     "server/src/domain/applications.rs",
     "if n > i64::from(limit) {", "if n < 0 {",
     ["-p", "server", "--test", "scale", "applications_per_company_per_day_are_limited"]),
    ("12.6", "a disabled operator's sessions go on",
     "server/src/db/sessions.rs",
     "AND o.disabled = 0", "",
     ["-p", "server", "--test", "trust", "disabling_ends_sessions_and_passwords_change"]),
    ("12.6", "operator routes check no role",
     "server/src/auth/extract.rs",
     "if self.actor().has_duty(duty) {", "if { let _ = duty; true } {",
     ["-p", "server", "--test", "trust", "every_operator_route_checks_the_role"]),
    ("12.8", "a certificate registers on another application's page",
     "server/src/domain/registrations.rs",
     "&& page != issuing.serial", "&& page.is_empty()",
     ["-p", "server", "--test", "trust", "registration_checks_what_it_registers"]),
    ("12.8", "any broker code registers with a certificate",
     "server/src/domain/registrations.rs",
     "if !broker_matches(", "if false && !broker_matches(",
     ["-p", "server", "--test", "trust", "registration_checks_what_it_registers"]),
    ("12.9", "an error code shows English in the Chinese UI",
     "proto/src/error.rs",
     '"憑證請求（CSR）未通過檢查（簽章、演算法、金鑰長度或弱金鑰），請重新產製金鑰",',
     '"The certificate request (CSR) was refused",',
     ["-p", "proto", "--lib", "every_error_code_has_zh_tw_and_english_text"]),
]


def cargo_test(args, log):
    cmd = ["cargo", "test", "--locked", *args]
    with open(log, "w") as f:
        r = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    text = Path(log).read_text(errors="replace")
    ran = "running 1 test" in text or "test result:" in text
    compiled = "error[E" not in text and "could not compile" not in text
    return r.returncode, ran, compiled


def main():
    only = set(sys.argv[1:])
    chosen = [m for m in MUTANTS if not only or m[0] in only]
    logs = Path(os.environ.get("MUTANT_LOGS", "/tmp/security-mutants"))
    logs.mkdir(parents=True, exist_ok=True)
    rows, bad = [], 0
    # The tests first, unchanged: they must pass, or a failure below proves nothing.
    for args in sorted({tuple(m[5]) for m in chosen}):
        rc, _, _ = cargo_test(list(args), logs / "baseline.log")
        if rc != 0:
            print(f"baseline failed: cargo test {' '.join(args)} (see {logs}/baseline.log)")
            return 1
    for i, (rule, undo, file, old, new, args) in enumerate(chosen, 1):
        path = ROOT / file
        original = path.read_text()
        if original.count(old) != 1:
            rows.append((rule, undo, file, args[-1], "EDIT NOT FOUND"))
            bad += 1
            continue
        t0 = time.time()
        try:
            path.write_text(original.replace(old, new))
            log = logs / f"mutant-{i:02}.log"
            rc, ran, compiled = cargo_test(args, log)
        finally:
            path.write_text(original)
        if not compiled:
            verdict = f"DID NOT BUILD ({log})"
            bad += 1
        elif rc != 0 and ran:
            verdict = "test fails"
        else:
            verdict = f"TEST STILL PASSES ({log})"
            bad += 1
        rows.append((rule, undo, file, args[-1], f"{verdict}, {time.time() - t0:.0f} s"))
        print(f"{rule} {undo}: {verdict}", flush=True)
    print()
    print("| rule | with this guard undone | in | the rule's test | result |")
    print("|---|---|---|---|---|")
    for rule, undo, file, test, verdict in rows:
        print(f"| {rule} | {undo} | `{file}` | `{test}` | {verdict} |")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
