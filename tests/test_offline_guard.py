"""The suite-wide offline guard of conftest.py: the network is unreachable from every test, loopback is not."""

from __future__ import annotations

import socket

import pytest


def test_connections_and_lookups_beyond_this_machine_fail():
    with pytest.raises(OSError, match="offline"):
        socket.create_connection(("example.org", 80), timeout=1)
    with pytest.raises(OSError, match="offline"):
        socket.socket().connect(("93.184.216.34", 80))


def test_loopback_stays_open():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=2)
        client.close()
    finally:
        server.close()
