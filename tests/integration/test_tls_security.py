"""testssl.sh (Debian's package) against a server with an ECDSA P-256 and
an RSA-2048 certificate made by `openssl req`: no finding says VULNERABLE,
and no finding on the protocols, the ciphers or the known attacks is rated
above OK. Findings about what the test itself set up (its throwaway
certificates, the loopback name) are listed apart, each with its reason."""

import collections
import json
import shutil
import subprocess

from rhtest import (PKI, render_conf_lists, skip_unless_ci, tls_port, tls_settings,
                    write_files)

# Findings about the test's setup rather than the server's TLS.
SETUP = {
    "cert_": "the certificates are the test's own: a local CA, no CRL or OCSP URI, "
             "no Certificate Transparency, a short life",
    "DNS_CAArecord": "localhost has no CAA record in any DNS",
    "security_headers": "X-Frame-Options and the like are the site's headers setting, not TLS",
}
BAD = {"LOW", "MEDIUM", "HIGH", "CRITICAL"}


def setup_reason(finding_id):
    finding_id = finding_id.split(" <cert#")[0]     # one finding per certificate
    for prefix, why in SETUP.items():
        if finding_id == prefix or (prefix.endswith("_") and finding_id.startswith(prefix)):
            return why
    return None


def find_testssl():
    return shutil.which("testssl") or shutil.which("testssl.sh")


def test_testssl_finds_nothing_weak(servers, tmp_path):
    testssl = find_testssl()
    if not testssl:
        skip_unless_ci("testssl.sh is not installed", "testssl.sh")
    pki = PKI(tmp_path / "pki")
    certs = [pki.leaf("ecdsa", ["localhost"]), pki.leaf("rsa", ["localhost"], "rsa")]
    # No precompressed files and no precompressed key: testssl's BREACH
    # check flags any response that comes gzip-encoded when asked for it,
    # whatever its content; without sidecars none does.
    root = tmp_path / "root"
    write_files(root, {"index.html": b"<!doctype html><title>testssl</title>\n"})
    s = tls_settings(root, certs)
    s.update({"server_name": "localhost", "hsts": "max-age=63072000"})
    srv = servers.new(text=render_conf_lists(s)).start()
    report = tmp_path / "testssl.json"
    p = subprocess.run([testssl, "--quiet", "--color", "0", "--warnings", "batch",
                        "--jsonfile", str(report), "--add-ca", pki.ca, "--ip", "127.0.0.1",
                        f"localhost:{tls_port(srv)}"],
                       capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert report.exists(), f"testssl.sh wrote no report (exit {p.returncode}):\n" \
        + p.stdout[-3000:] + p.stderr[-2000:]
    findings = json.loads(report.read_text())
    assert any(f["id"] == "TLS1_3" and f["finding"] == "offered with final" for f in findings), \
        "testssl did not see TLS 1.3: " + p.stdout[-3000:]
    severities = collections.Counter(f["severity"] for f in findings)
    bad, setup = [], []
    for f in findings:
        line = f'{f["id"]} {f["severity"]}: {f["finding"]}'
        if "VULNERABLE" in f["finding"]:
            bad.append(line)
        elif f["severity"] in BAD:
            (setup if setup_reason(f["id"]) else bad).append(line)
    summary = (f"testssl.sh: {len(findings)} findings, {dict(severities)}; "
               f"{len(setup)} about the test's setup: {setup}")
    print(summary)
    assert not bad, f"{summary}\nfindings against the server:\n" + "\n".join(bad)
