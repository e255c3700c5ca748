"""TCP connect scan of every port of some addresses, fast enough for CI (seconds).

Run with python3 anywhere (the host, or a node: ``podman exec -i NODE python3 - ADDR... <
portscan.py``); prints ``{"address": [open ports]}`` as JSON. A port is open when a TCP
handshake completes; refused and unanswered (filtered) ports are closed. Non-blocking
connects in batches, waited for with epoll: on one bridge an answer takes well under a
millisecond, so a batch of BATCH ports is settled within TIMEOUT seconds and 65535 ports take
under two seconds per address when they are filtered (less when they are refused).
"""

from __future__ import annotations

import errno
import json
import resource
import select
import socket
import sys
import time

TIMEOUT = 0.3
# As many sockets at once as the open-files limit allows (16384 in the nodes), up to 15000.
BATCH = max(256, min(15000, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 512))


def _batch(address: str, ports: list[int]) -> list[int]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    poller = select.epoll()
    pending: dict[int, tuple[socket.socket, int]] = {}
    found: list[int] = []
    try:
        for port in ports:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            rc = sock.connect_ex((address, port))
            if rc == 0:
                found.append(port)
                sock.close()
            elif rc == errno.EINPROGRESS:
                pending[sock.fileno()] = (sock, port)
                poller.register(sock.fileno(), select.EPOLLOUT | select.EPOLLERR)
            else:
                sock.close()
        deadline = time.monotonic() + TIMEOUT
        while pending and (left := deadline - time.monotonic()) > 0:
            for fd, _ in poller.poll(left):
                sock, port = pending.pop(fd)
                poller.unregister(fd)
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    found.append(port)
                sock.close()
    finally:
        for sock, _ in pending.values():
            sock.close()
        poller.close()
    return found


def scan(address: str, first: int = 1, last: int = 65535) -> list[int]:
    ports = list(range(first, last + 1))
    found: list[int] = []
    for start in range(0, len(ports), BATCH):
        found += _batch(address, ports[start : start + BATCH])
    return sorted(found)


if __name__ == "__main__":
    print(json.dumps({address: scan(address) for address in sys.argv[1:]}))
