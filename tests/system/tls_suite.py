"""HTTPS with the .deb under a booted systemd, as README.md tells an
administrator: ringhttpd-https.socket installed disabled; Debian's snakeoil
pair installed with ringhttpd-cert and served over TLS by socket
activation; a certificate from certbot against pebble, a local ACME CA,
through ringhttpd's own http-01 webroot; and its renewal, installed by the
packaged deploy hook, while clients download over TLS. All offline: pebble
runs in the container."""

import json
import os
import re

import checks
import package_suite
from container import Container
from rhtest import wait_until

CONF = package_suite.CONF
DOCROOT = "/var/www/html"
TLS = "/etc/ringhttpd/tls"
HOOK = "/etc/letsencrypt/renewal-hooks/deploy/ringhttpd"
SNAKEOIL = ("/etc/ssl/certs/ssl-cert-snakeoil.pem", "/etc/ssl/private/ssl-cert-snakeoil.key")
# The name certbot asks for, resolved by /etc/hosts for pebble's validation
# and for the clients.
NAME = "www.ringhttpd.test"
LIVE = f"/etc/letsencrypt/live/{NAME}"
PEBBLE = "/srv/pebble"
ACME = "https://127.0.0.1:14000/dir"
# pebble's own HTTPS certificate (made here), and the root of the
# certificates it issues (made anew at each start of pebble).
PEBBLE_TLS_CA = f"{PEBBLE}/cert.pem"
PEBBLE_ROOT = f"{PEBBLE}/root.pem"
# The sample configuration of Debian's pebble package, with the paths of
# this test, listening on loopback only, validating http-01 on port 80.
PEBBLE_CONFIG = {"pebble": {
    "listenAddress": "127.0.0.1:14000", "managementListenAddress": "127.0.0.1:15000",
    "certificate": PEBBLE_TLS_CA, "privateKey": f"{PEBBLE}/key.pem",
    "httpPort": 80, "tlsPort": 5001, "ocspResponderURL": "",
    "externalAccountBindingRequired": False}}


def certbot(c, *args, timeout=300):
    """certbot against pebble, trusting pebble's HTTPS certificate; returns
    its output."""
    r = c.run("env", f"REQUESTS_CA_BUNDLE={PEBBLE_TLS_CA}", "certbot", "--non-interactive",
              "--server", ACME, *args, timeout=timeout, check=False)
    assert r.returncode == 0, f"certbot {' '.join(args)} exited with {r.returncode}:\n" \
        + r.stdout + r.stderr
    return r.stdout + r.stderr


def https(c, name, ca, *curl_args):
    """(status, body) of GET https://name/ at 127.0.0.1:443, verified with ca."""
    r = c.run("curl", "-sS", "--max-time", "10", "--cacert", ca,
              "--resolve", f"{name}:443:127.0.0.1", *curl_args,
              "-w", "\n%{http_code}", f"https://{name}/", check=False, timeout=30)
    body, _, code = r.stdout.rpartition("\n")
    assert code not in ("", "000"), f"GET https://{name}/: no response: {r.stderr.strip()}"
    return int(code), body


def serial(c, pem):
    return c.run("openssl", "x509", "-noout", "-serial", "-in", pem).stdout.strip()


def served_serial(c, name):
    """The serial of the certificate the server presents for name."""
    return c.run("sh", "-c", f"openssl s_client -connect 127.0.0.1:443 -servername {name}"
                 " </dev/null 2>/dev/null | openssl x509 -noout -serial").stdout.strip()


def use_pair(c, name):
    """Point the default site to the pair ringhttpd-cert installed as name."""
    checks.set_config(c, CONF, "tls_certificate", f'"{TLS}/{name}/fullchain.pem"')
    checks.set_config(c, CONF, "tls_key", f'"{TLS}/{name}/privkey.pem"')


def snakeoil_installed(c):
    """make-ssl-cert makes the snakeoil pair for this host; its key is out of
    the service user's reach, the copy ringhttpd-cert installs is not, and
    a key of another certificate is refused without a trace."""
    c.run("make-ssl-cert", "generate-default-snakeoil", "--force-overwrite")
    c.run("ringhttpd-cert", "install", "snakeoil", *SNAKEOIL)
    chain, key = f"{TLS}/snakeoil/fullchain.pem", f"{TLS}/snakeoil/privkey.pem"
    want = {TLS: "750", f"{TLS}/snakeoil": "750", chain: "640", key: "640"}
    got = c.run("stat", "-c", "%n %U:%G %a", *want).stdout.splitlines()
    assert got == [f"{path} root:www-data {mode}" for path, mode in want.items()], got
    for src, dst in zip(SNAKEOIL, (chain, key)):
        c.run("cmp", src, dst)
    as_service = ("runuser", "-u", "www-data", "--", "cat")
    assert c.run(*as_service, SNAKEOIL[1], check=False).returncode != 0, \
        f"www-data can read {SNAKEOIL[1]}: the test proves nothing"
    c.run(*as_service, key)

    c.run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-out", "/root/other.key")
    r = c.run("ringhttpd-cert", "install", "snakeoil", SNAKEOIL[0], "/root/other.key", check=False)
    assert r.returncode == 1 and "is not the key of the first certificate" in r.stderr, r
    c.run("cmp", SNAKEOIL[1], key)
    left = c.run("ls", "-A", TLS).stdout.split()
    assert left == ["snakeoil"], f"{TLS} holds {left}"


def snakeoil_name(c):
    san = c.run("openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", SNAKEOIL[0]).stdout
    return re.search(r"DNS:([^,\s]+)", san).group(1)


def enable_https(c):
    """The README's commands, while clients use the server: enable the
    socket, then restart the service with it (systemd refuses to start a
    socket whose service runs). No request is lost, and the new process
    has both sockets by name (in either order)."""
    use_pair(c, "snakeoil")

    def enable(c):
        c.run("systemctl", "enable", "ringhttpd-https.socket")
        c.run("systemctl", "restart", "ringhttpd.service", "ringhttpd-https.socket", timeout=120)
    detail = checks.no_request_lost(c, enable, "enabling ringhttpd-https.socket")
    names = checks.listen_fd_names(c)
    assert sorted(names) == ["http", "https"], f"LISTEN_FDNAMES of the service: {names}"
    return f"LISTEN_FDNAMES={':'.join(names)}; {detail}"


def https_by_activation(c, page):
    """With the service stopped, the first TLS connection starts it; the page
    arrives exact over TLS 1.3 and 1.2, verified against the snakeoil
    certificate, and plain HTTP still on port 80."""
    c.run("systemctl", "stop", "ringhttpd.service")
    for unit, want in (("ringhttpd.service", "inactive"), ("ringhttpd-https.socket", "active")):
        state = checks.unit_state(c, unit)
        assert state == want, f"{unit} is {state}"
    name = snakeoil_name(c)
    for version in (["--tlsv1.3"], ["--tlsv1.2", "--tls-max", "1.2"]):
        got = https(c, name, SNAKEOIL[0], *version)
        assert got == (200, page), f"TLS {version}: {got[0]} {got[1][:200]!r}"
    checks.expect_page(c, page)
    return f"as {name}, MainPID {checks.main_pid(c)}"


def start_pebble(c):
    """pebble as a transient unit, with an HTTPS certificate made here, at
    full speed (no validation sleeps, no rejected nonces)."""
    c.run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-days", "2", "-subj", "/CN=localhost",
          "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
          "-keyout", f"{PEBBLE}/key.pem", "-out", PEBBLE_TLS_CA)
    checks.write(c, f"{PEBBLE}/config.json", json.dumps(PEBBLE_CONFIG, indent=2) + "\n")
    c.run("systemd-run", "--unit=pebble", "--setenv=PEBBLE_VA_NOSLEEP=1",
          "--setenv=PEBBLE_WFE_NONCEREJECT=0", "pebble", "-config", f"{PEBBLE}/config.json")
    wait_until(lambda: c.run("curl", "-sf", "--cacert", PEBBLE_TLS_CA, ACME,
                             check=False).returncode == 0, 30, "pebble's ACME directory")
    c.run("curl", "-sSf", "--cacert", PEBBLE_TLS_CA, "-o", PEBBLE_ROOT,
          "https://127.0.0.1:15000/roots/0")


def certbot_issues(c, page):
    """certbot gets a certificate for NAME from pebble, whose http-01
    validation fetches the token through ringhttpd from the document root
    (the access log in the journal shows it); ringhttpd-cert installs it
    and a reload serves it."""
    start_pebble(c)
    checks.access_log_journal(c, CONF)
    certbot(c, "certonly", "--agree-tos", "--register-unsafely-without-email",
            "--webroot", "-w", DOCROOT, "-d", NAME)
    challenge = checks.journal_entry(
        c, lambda e: str(e.get("REQUEST_PATH", "")).startswith("/.well-known/acme-challenge/"),
        "the http-01 request in the access log")
    assert challenge["STATUS"] == "200", challenge

    c.run("ringhttpd-cert", "install", NAME, f"{LIVE}/fullchain.pem", f"{LIVE}/privkey.pem")
    use_pair(c, NAME)
    c.run("systemctl", "reload", "ringhttpd.service")
    issued = serial(c, f"{LIVE}/cert.pem")
    wait_until(lambda: served_serial(c, NAME) == issued, 15, f"the server to present {issued}")
    got = https(c, NAME, PEBBLE_ROOT)
    assert got == (200, page), f"{got[0]} {got[1][:200]!r}"
    return f"{challenge['REQUEST_PATH']} {challenge['STATUS']}; serving {issued}"


def renewal_loses_nothing(c):
    """certbot renew --force-renewal while clients download over TLS: the
    deploy hook installs the new pair and reloads; no request fails, the
    downloads begun before finish, the process stays, and new connections
    get the new certificate."""
    before = served_serial(c, NAME)
    out = []

    def renew(c):
        out.append(certbot(c, "renew", "--force-renewal", "--no-random-sleep-on-renew"))
    detail = checks.no_request_lost(c, renew, "the renewal", base=f"https://{NAME}",
                                    curl_args=["--cacert", PEBBLE_ROOT], new_process=False)
    for line in (f"ringhttpd-cert: installed {TLS}/{NAME}/fullchain.pem",
                 "ringhttpd-cert: reloaded ringhttpd.service"):
        assert line in out[0], f"no {line!r} from the deploy hook in:\n{out[0]}"
    renewed = serial(c, f"{LIVE}/cert.pem")
    assert renewed != before, f"certbot renewed nothing: still {before}"
    wait_until(lambda: served_serial(c, NAME) == renewed, 15, f"the server to present {renewed}")
    return f"{before} -> {renewed}; {detail}"


def removed_hook_is_quiet(c):
    """After apt-get remove the deploy hook stays (a conffile) but does
    nothing, successfully."""
    package_suite.remove_stops_listening(c)
    r = c.run("env", f"RENEWED_LINEAGE={LIVE}", HOOK, check=False)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), r


def purge_removes_pairs(c):
    package_suite.purge_removes_config(c)
    for path in (TLS, HOOK):
        assert not os.path.exists(c.root + path), f"{path} is still there after purge"


def run(results, deb):
    with open(package_suite.DEFAULT_PAGE) as f:
        page = f.read()
    with Container() as c:
        (staged,) = package_suite.stage_debs(c, [deb])
        with open(c.root + "/etc/hosts", "a") as f:
            f.write(f"127.0.0.1 {NAME}\n")
        os.makedirs(c.root + PEBBLE)
        os.makedirs(c.root + DOCROOT)
        with open(c.root + DOCROOT + checks.BIG_FILE, "wb") as f:
            f.truncate(checks.BIG_SIZE)
        c.boot()
        checks.run_all(results, c, [
            ("apt-get install of the .deb", package_suite.install, staged),
            ("ringhttpd.socket enabled, ringhttpd-https.socket disabled, service inactive",
             checks.socket_waits),
            ("first connection starts the service with the http socket alone",
             checks.first_connection, page),
            ("ringhttpd-cert installs the snakeoil pair for www-data, refuses a wrong key",
             snakeoil_installed),
            ("enabling ringhttpd-https.socket while serving loses no request",
             enable_https),
            ("HTTPS by socket activation: exact bytes over TLS 1.3 and 1.2",
             https_by_activation, page),
            ("certbot gets a certificate from pebble through ringhttpd's webroot",
             certbot_issues, page),
            ("certbot renew during TLS downloads: deploy hook, reload, no request lost",
             renewal_loses_nothing),
            ("apt-get remove: nothing on port 80 or 443, the deploy hook does nothing",
             removed_hook_is_quiet),
            ("apt-get purge removes the installed pairs and the deploy hook",
             purge_removes_pairs),
        ])
