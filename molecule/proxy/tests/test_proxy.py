"""What users and operators rely on at the front door, checked from a client (mp-app).

HTTPS through the VIP validates against the site CA, old TLS is refused by the server, HSTS
and the security headers are set, plain HTTP redirects, websockets and large uploads pass
through to the upstream, access logs are JSON, and the VIP is held by exactly one proxy node.
The drills (test_drill_*.py) then take the VIP holder down.
"""

from __future__ import annotations

import json
import shlex
import time

import pytest
from jovial_fixtures import run_playbook, wait_for

VIP = "10.78.4.100"
NAME = "jovial.proxy.jovial.test"
EDGES = ("mp-edge1", "mp-edge2")
CA = "/usr/local/share/ca-certificates/jovial-molecule-proxy-ca.crt"
# Only the CA given on the command line: no system store (which trusts the site CA too).
CURL = "curl --capath /nonexistent"
RESOLVE = f"--resolve {NAME}:443:{VIP} --resolve {NAME}:80:{VIP}"


def vip_holders(node) -> list[str]:
    return [e for e in EDGES if f" {VIP}/" in node(e).run("ip -o -4 addr show").stdout]


@pytest.fixture(scope="module")
def client(node):
    return node("mp-app")


def test_exactly_one_proxy_holds_the_vip(node):
    holders = wait_for(lambda: vip_holders(node), timeout=30)
    assert len(holders) == 1, holders


def test_https_through_the_vip_validates_against_the_site_ca(client):
    for url in (f"https://{NAME}/", f"https://{VIP}/", "https://proxy-vip/"):
        out = client.run(f"{CURL} --silent --show-error --fail --cacert {CA} {RESOLVE} {url}")
        assert out.rc == 0, f"{url}: {out.stderr}"
        body = json.loads(out.stdout)
        assert body["upstream"] == "mp-app"
        assert body["x_forwarded_proto"] == "https"


def test_https_is_refused_by_a_client_that_does_not_trust_the_site_ca(client):
    """Guards the test above: the same request with another CA must fail verification."""
    other_ca = client.run("ls /usr/share/ca-certificates/mozilla/*.crt | head -n 1").stdout.strip()
    out = client.run(f"{CURL} --silent --show-error --cacert {other_ca} {RESOLVE} https://{NAME}/")
    assert out.rc == 60, out.stderr  # curl: peer certificate cannot be authenticated


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1"])
def test_old_tls_versions_are_refused_by_the_server(client, flag):
    # SECLEVEL=0 lets OpenSSL 3 offer TLS 1.0/1.1 at all: the refusal then comes from nginx.
    out = client.run(
        f"openssl s_client -connect {VIP}:443 -servername {NAME} {flag} "
        "-cipher 'DEFAULT:@SECLEVEL=0' < /dev/null"
    )
    assert out.rc != 0
    text = out.stdout + out.stderr
    assert "alert protocol version" in text, text


@pytest.mark.parametrize("flag,version", [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")])
def test_tls_1_2_and_1_3_are_accepted(client, flag, version):
    out = client.run(
        f"openssl s_client -connect {VIP}:443 -servername {NAME} {flag} "
        f"-CAfile {CA} -no-CApath -no-CAstore -verify_return_error < /dev/null"
    )
    assert out.rc == 0, out.stderr
    assert f"Protocol  : {version}" in out.stdout or f"New, {version}" in out.stdout, out.stdout


def test_hsts_and_security_headers(client):
    out = client.run(
        f"{CURL} --silent --fail --cacert {CA} {RESOLVE} -D - -o /dev/null https://{NAME}/"
    )
    assert out.rc == 0, out.stderr
    headers = {
        line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
        for line in out.stdout.splitlines()
        if ":" in line
    }
    assert headers["strict-transport-security"].startswith("max-age=63072000")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "server" not in headers or "nginx/" not in headers["server"]


def test_plain_http_redirects_to_https(client):
    out = client.run(
        f"curl --silent -o /dev/null -w '%{{http_code}} %{{redirect_url}}' {RESOLVE} "
        f"'http://{NAME}/hub/login?next=%2Fhub%2F'"
    )
    assert out.stdout == f"301 https://{NAME}/hub/login?next=%2Fhub%2F", out.stdout


def test_websocket_echo_through_the_proxy(client):
    for url in (f"wss://{VIP}/ws", "wss://proxy-vip/ws"):
        out = client.run(f"python3 /opt/jovial-echo/ws_client.py {url} {CA} hello-kernel")
        assert out.rc == 0, out.stderr
        assert out.stdout.strip() == "echo: hello-kernel"


def test_large_uploads_pass_through(client):
    """A 64 MiB body (nginx's default limit is 1 MiB) reaches the upstream whole."""
    size = 64 * 1024 * 1024
    client.run_expect([0], f"head -c {size} /dev/zero > /tmp/upload.bin")
    out = client.run(
        f"{CURL} --silent --fail --cacert {CA} --data-binary @/tmp/upload.bin "
        f"-H 'Content-Type: application/octet-stream' https://{VIP}/upload"
    )
    assert out.rc == 0, out.stderr
    assert json.loads(out.stdout)["received"] == size


def test_access_log_is_json(node, client):
    marker = "/?log-marker-7f3a"
    client.run_expect([0], f"{CURL} --silent --fail --cacert {CA} 'https://{VIP}{marker}'")
    holder = vip_holders(node)[0]
    lines = node(holder).run("tail -n 50 /var/log/nginx/jovial-access.json").stdout.splitlines()
    records = [json.loads(line) for line in lines]
    mine = [r for r in records if r["uri"] == marker]
    assert mine, lines
    assert mine[-1]["status"] == 200
    assert mine[-1]["tls"] in ("TLSv1.2", "TLSv1.3")
    assert mine[-1]["upstream_addr"] == "10.78.4.31:8000"


def test_a_broken_configuration_is_refused_and_nginx_keeps_serving(node, client):
    """A value nginx rejects fails the run at `nginx -t`; nginx.conf and the service stay."""
    edge = node("mp-edge1")
    before = edge.file("/etc/nginx/nginx.conf").sha256sum
    out = run_playbook(
        "playbooks/proxy.yml",
        "--limit",
        "mp-edge1",
        "-e",
        "nginx_proxy_client_max_body_size='2 gigabytes'",
    )
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "failed to validate" in text, text[-3000:]
    assert 'invalid number of arguments in \\"client_max_body_size\\"' in text, text[-3000:]
    assert edge.file("/etc/nginx/nginx.conf").sha256sum == before
    assert edge.service("nginx").is_running
    health = edge.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8081/healthz")
    assert health.stdout == "200"


def test_verify_playbook_passes(node):
    out = run_playbook("playbooks/verify.yml")
    assert out.returncode == 0, out.stdout[-4000:]
    assert "is held by mp-edge" in out.stdout


def test_kube_apiserver_lb_config_is_valid_and_not_running(node):
    for name in EDGES:
        edge = node(name)
        out = edge.run("haproxy -c -f /etc/haproxy/haproxy.cfg")
        assert out.rc == 0, out.stdout + out.stderr
        assert not edge.service("haproxy").is_running


# Asks HAProxy's admin socket (haproxy.cfg `stats socket`) one command, with the node's python3.
ADMIN = (
    "import socket, sys; s = socket.socket(socket.AF_UNIX); "
    "s.connect('/run/haproxy/admin.sock'); s.sendall(sys.argv[1].encode() + b'\\n'); "
    "sys.stdout.write(b''.join(iter(lambda: s.recv(65536), b'')).decode())"
)
STUB = "jovial-stub-apiserver"
# HAProxy under a transient unit of its own: Debian's haproxy.service bind-mounts /dev/log
# into the chroot (BindReadOnlyPaths), which needs mount namespaces these containers lack.
LB = "jovial-test-haproxy"


def lb_servers(edge) -> dict[str, dict[str, str]]:
    """The kube_apiservers backend's servers as HAProxy sees them (`show stat`): name ->
    {status, check_status, addr, ...}; empty while the socket does not answer."""
    out = edge.run(f"python3 -c {shlex.quote(ADMIN)} 'show stat'")
    if out.rc != 0:
        return {}
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:]]
    return {r["svname"]: r for r in rows if r["pxname"] == "kube_apiservers" and r["type"] == "2"}


def brief(row: dict[str, str]) -> str:
    return ", ".join(
        f"{k}={row.get(k)}" for k in ("svname", "addr", "status", "check_status", "last_chk")
    )


def test_kube_apiserver_lb_health_check_follows_a_tls_backend(node):
    """HAProxy's /readyz check over TLS, observed: a stub kube-apiserver (openssl s_server,
    with mp-edge2's site-CA certificate, which names mp-edge2 as the check's SNI does) at the
    address and port HAProxy checks turns mp-edge2 UP; stopped, DOWN again. mp-edge1 has
    nothing on that port and stays DOWN. HAProxy runs on mp-edge1 for this test only, with the
    rendered haproxy.cfg."""
    lb, backend = node("mp-edge1"), node("mp-edge2")
    lb.run_expect([0], f"systemd-run --unit {LB} haproxy -db -f /etc/haproxy/haproxy.cfg")
    try:
        servers = wait_for(lambda: lb_servers(lb), timeout=10)
        addr = servers["mp-edge2"]["addr"]  # 10.78.4.22:6443
        port = addr.rsplit(":", 1)[1]

        def status(name: str) -> str:
            return lb_servers(lb)[name]["status"]

        # Servers start UP: the first failed check (nothing listens yet) marks them DOWN.
        assert wait_for(lambda: status("mp-edge2") == "DOWN", timeout=15), lb_servers(lb)
        start = time.monotonic()
        backend.run_expect(
            [0],
            f"systemd-run --unit {STUB} openssl s_server -quiet -www -accept {port} "
            "-cert /etc/nginx/pki/proxy.crt -key /etc/nginx/pki/proxy.key",
        )
        up = wait_for(lambda: status("mp-edge2") == "UP", timeout=30)
        print(f"stub at {addr} up: UP after {time.monotonic() - start:.1f} s")
        assert up, brief(lb_servers(lb)["mp-edge2"])
        assert lb_servers(lb)["mp-edge2"]["check_status"] == "L7OK"
        assert status("mp-edge1") == "DOWN"
        # The keepalived monitor answers 200 while a kube-apiserver is ready.
        monitor = "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8405/healthz"
        assert lb.run(monitor).stdout == "200"

        start = time.monotonic()
        backend.run_expect([0], f"systemctl stop {STUB}")
        down = wait_for(lambda: status("mp-edge2") == "DOWN", timeout=30)
        print(f"stub stopped: DOWN after {time.monotonic() - start:.1f} s")
        assert down, brief(lb_servers(lb)["mp-edge2"])
        assert lb.run(monitor).stdout == "503"
    finally:
        backend.run(f"systemctl stop {STUB}")
        backend.run(f"systemctl reset-failed {STUB}")
        lb.run(f"systemctl stop {LB}")
        lb.run(f"systemctl reset-failed {LB}")
