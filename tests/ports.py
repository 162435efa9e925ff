"""A loopback port nothing listens on (test servers bind it; tests of unreachable servers use
it as is). A plain module: tests in any folder import it."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
