"""The notifications' keep-alive HTTP client never sends a request twice when the provider may
have taken it: only an idle connection the server had already closed is retried."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from qinghe.notifications.channels import TransientError, _Http


class ClosingServer:
    """Reads each request, counts it, then closes the connection without answering."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.requests = 0
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(65536)
                if data:
                    self.requests += 1


@pytest.fixture
def server() -> Iterator[ClosingServer]:
    srv = ClosingServer()
    yield srv
    srv.sock.close()


def test_a_request_the_server_read_but_never_answered_is_not_sent_again(
    server: ClosingServer,
) -> None:
    client = _Http()
    with pytest.raises(TransientError, match="网络错误"):
        client.request("POST", server.url, body=b"x=1")
    assert server.requests == 1
