import socket

import pytest

from tests.conftest import NetworkBlocked


def test_guard_refuses_a_public_address() -> None:
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("example.org", 443), timeout=1)


def test_guard_refuses_a_public_ip() -> None:
    sock = socket.socket()
    try:
        with pytest.raises(NetworkBlocked):
            sock.connect(("151.101.0.223", 443))
    finally:
        sock.close()


def test_guard_lets_loopback_through() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=1)
        client.close()
    finally:
        server.close()
