#!/usr/bin/env python3
"""LDAP benchmark: replication delay both ways, bind and search latency, on the real slapd pair.

Runs against the Molecule `ldap` scenario (providers ml-ldap1/ml-ldap2, 10.78.3.11/.12). By
default it creates and converges the scenario, measures, and destroys it; with --reuse it
measures an already converged scenario (e.g. after `molecule converge -s ldap`) and leaves it
running. Writes build/bench/ldap.json:

    {"replication": {"ml-ldap1->ml-ldap2": {"n", "p50_s", "p95_s", "max_s"}, ...},
     "bind": {"<provider>": {"connect_tls_bind_ms": {...}, "rebind_ms": {...}}},
     "search": {"<provider>": {"uid_lookup_ms": {...}}},
     "targets": {"replication_s": 2}, "slapd_version", "machine", "measured_at"}

Replication: a description is written on one provider as local root (ldapmodify over ldapi,
inside the container: only local root may write), while this process polls the other
provider over LDAPS (bound as the read-only service account, every 5 ms) for the new value,
starting as the write starts (not when its `podman exec` returns). The delay is the time it
is first seen minus the time in the entry's entryCSN (stamped by the writing slapd when it
applied the change; containers share the host's clock), so neither the `podman exec` before
the write nor the one after it is counted. Bind: a new LDAPS connection + simple bind as a
directory user, and a re-bind on an open connection. Search: the reader looks a user up by
uid (indexed), as SSSD and JupyterHub do. Figures are reported, never asserted. The
scenario's host firewall admits LDAP only from its nodes: the bench admits this host to the
providers' LDAPS port first (a labelled rule, see admit_this_host).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import ssl
import statistics
import subprocess
import time
from pathlib import Path

import ldap3
from molecule_scenario import ephemeral_dir, molecule, start

TOP = Path(__file__).resolve().parents[2]
OUT = TOP / "build" / "bench"
BASE = "dc=ldap,dc=jovial,dc=test"
PROVIDERS = {"ml-ldap1": "10.78.3.11", "ml-ldap2": "10.78.3.12"}
READER = f"cn=reader,ou=services,{BASE}"
USER = f"uid=ada,ou=people,{BASE}"
TARGET_DN = f"cn=campaign-deep,ou=groups,{BASE}"


def summary(values: list[float], scale: float = 1.0, digits: int = 4) -> dict:
    """n, p50, p95 and max of values (multiplied by scale)."""
    data = sorted(v * scale for v in values)
    p95 = statistics.quantiles(data, n=20)[18] if len(data) >= 2 else data[0]
    return {
        "n": len(data),
        "p50": round(statistics.median(data), digits),
        "p95": round(p95, digits),
        "max": round(data[-1], digits),
    }


def tls(ca_file: Path) -> ldap3.Tls:
    return ldap3.Tls(
        validate=ssl.CERT_REQUIRED, ca_certs_file=str(ca_file), version=ssl.PROTOCOL_TLS_CLIENT
    )


def connect(address: str, who: str, password: str, ca_file: Path) -> ldap3.Connection:
    server = ldap3.Server(address, port=636, use_ssl=True, tls=tls(ca_file), connect_timeout=5)
    return ldap3.Connection(server, user=who, password=password, auto_bind=True, read_only=True)


def csn_time(csn: str) -> float:
    """Epoch seconds of an entryCSN such as 20261122081530.123456Z#000000#001#000000."""
    stamp = dt.datetime.strptime(csn.split("#", 1)[0], "%Y%m%d%H%M%S.%fZ")
    return stamp.replace(tzinfo=dt.UTC).timestamp()


def read_description(conn: ldap3.Connection) -> tuple[list[str], str]:
    conn.search(TARGET_DN, "(objectClass=*)", ldap3.BASE, attributes=["description", "entryCSN"])
    if not conn.entries:
        return [], ""
    entry = conn.entries[0]
    return list(entry.description.values), str(entry.entryCSN.value or "")


def write_description(node: str, text: str) -> subprocess.Popen:
    """Start writing text as the entry's description on node; the caller waits for it."""
    ldif = f"dn: {TARGET_DN}\nchangetype: modify\nreplace: description\ndescription: {text}\n"
    return subprocess.Popen(
        [
            "podman",
            "exec",
            node,
            "bash",
            "-c",
            f"printf %s {shlex.quote(ldif)} | ldapmodify -Q -Y EXTERNAL -H ldapi:///",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def written(proc: subprocess.Popen, node: str) -> None:
    """Wait for a write started by write_description; raise with slapd's answer if refused."""
    _out, err = proc.communicate(timeout=60)
    if proc.returncode != 0:
        raise SystemExit(f"the write on {node} failed ({proc.returncode}): {err.strip()}")


def admit_this_host(node: str, address: str) -> None:
    """Let this host reach node's LDAPS port through the node's host firewall.

    The scenario's firewall (roles/firewall) admits LDAP only from the inventory's nodes, and
    this process is not one. The rule, labelled, goes first in the node's input chain; the
    role's next run (it replaces the whole table) removes it.
    """
    route = subprocess.run(
        ["ip", "-o", "route", "get", address], capture_output=True, text=True, check=True
    ).stdout.split()
    source = route[route.index("src") + 1]
    comment = "bench_ldap client"
    chain = subprocess.run(
        ["podman", "exec", node, "nft", "list", "chain", "inet", "jovial", "input"],
        capture_output=True,
        text=True,
        check=False,
    )
    if chain.returncode != 0 or comment in chain.stdout:
        return  # no firewall on the node, or already admitted
    # nft joins its arguments and parses them: the comment keeps its quotes.
    rule = ["ip", "saddr", source, "tcp", "dport", "636", "accept", "comment", f'"{comment}"']
    subprocess.run(
        ["podman", "exec", node, "nft", "insert", "rule", "inet", "jovial", "input", *rule],
        check=True,
        capture_output=True,
    )
    print(f"{node}: admitted {source} to LDAPS through its firewall ({comment})", flush=True)


def replication(rounds: int, readers: dict[str, ldap3.Connection]) -> dict:
    """Delays both ways; the description the inventory set is written back at the end."""
    original = read_description(readers["ml-ldap1"])[0]
    results = {}
    for writer, reader in (("ml-ldap1", "ml-ldap2"), ("ml-ldap2", "ml-ldap1")):
        delays = []
        for n in range(rounds):
            text = f"bench {writer} {n} {time.time():.6f}"
            # Poll the reader while the write runs, not after its `podman exec` returns: the
            # delay is from the writing slapd's entryCSN (its acknowledgement) to first seen.
            proc = write_description(writer, text)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                values, csn = read_description(readers[reader])
                if text in values:
                    delays.append(max(0.0, time.time() - csn_time(csn)))
                    break
                time.sleep(0.005)
            else:
                proc.kill()
                raise SystemExit(f"{text!r} did not reach {reader} within 30 s")
            written(proc, writer)
        results[f"{writer}->{reader}"] = {
            k if k == "n" else f"{k}_s": v for k, v in summary(delays).items()
        }
        print(f"replication {writer}->{reader}: {results[f'{writer}->{reader}']}", flush=True)
    if original:
        written(write_description("ml-ldap1", original[0]), "ml-ldap1")
    return results


def latencies(address: str, secrets: Path, ca_file: Path, rounds: int) -> dict:
    password = (secrets / "ldap_password_ada").read_text().strip()
    reader_pw = (secrets / "ldap_reader_password").read_text().strip()
    fresh, rebind, lookup = [], [], []
    conn = connect(address, USER, password, ca_file)
    reader = connect(address, READER, reader_pw, ca_file)
    for _ in range(rounds):
        start = time.perf_counter()
        connect(address, USER, password, ca_file).unbind()
        fresh.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert conn.rebind(user=USER, password=password)
        rebind.append(time.perf_counter() - start)
        start = time.perf_counter()
        reader.search(f"ou=people,{BASE}", "(uid=ada)", attributes=["uidNumber", "gidNumber"])
        lookup.append(time.perf_counter() - start)
        assert reader.entries, "the reader found no ada"
    conn.unbind()
    reader.unbind()
    return {
        "connect_tls_bind_ms": summary(fresh, 1000, 2),
        "rebind_ms": summary(rebind, 1000, 2),
        "uid_lookup_ms": summary(lookup, 1000, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="use a converged scenario, keep it")
    parser.add_argument("--replication-rounds", type=int, default=20)
    parser.add_argument("--latency-rounds", type=int, default=200)
    args = parser.parse_args()
    if not start("ldap", args.reuse):
        return 2
    try:
        ephemeral = ephemeral_dir("ldap")
        ca_file, secrets = ephemeral / "pki" / "ca.crt", ephemeral / "secrets"
        reader_pw = (secrets / "ldap_reader_password").read_text().strip()
        version = subprocess.run(
            ["podman", "exec", "ml-ldap1", "dpkg-query", "-W", "-f", "${Version}", "slapd"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        for name, address in PROVIDERS.items():
            admit_this_host(name, address)
        readers = {n: connect(a, READER, reader_pw, ca_file) for n, a in PROVIDERS.items()}
        repl = replication(args.replication_rounds, readers)
        per_provider = {
            n: latencies(a, secrets, ca_file, args.latency_rounds) for n, a in PROVIDERS.items()
        }
    finally:
        if not args.reuse:
            molecule("ldap", "destroy")
    result = {
        "replication": repl,
        "bind": {
            n: {k: v for k, v in f.items() if k != "uid_lookup_ms"} for n, f in per_provider.items()
        },
        "search": {n: {"uid_lookup_ms": f["uid_lookup_ms"]} for n, f in per_provider.items()},
        "targets": {"replication_s": 2},
        "slapd_version": version,
        "client": f"ldap3 {ldap3.__version__} on the host, LDAPS with the site CA",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ldap.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
