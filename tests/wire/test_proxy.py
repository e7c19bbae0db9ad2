"""The recording proxy itself: it records exactly what was sent and forwards it unchanged."""

from __future__ import annotations

import socket

from tests.conftest import SRC_BUCKET

from .proxy import RecordingProxy


def _read_responses(sock: socket.socket, count: int) -> bytes:
    """Read until ``count`` HTTP responses (with Content-Length bodies) have arrived."""
    data = b""
    while data.count(b"HTTP/1.1 ") < count or not data.endswith(b"</Error>"):
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


def test_records_raw_bytes_of_each_request_and_forwards_both_ways(cos, proxy: RecordingProxy) -> None:
    host = f"{SRC_BUCKET}.cos.ap-beijing.myqcloud.com".encode()
    first = (
        b"PUT /a/.%2Fb HTTP/1.1\r\nHost: " + host + b"\r\n"
        b"x-cos-meta-city: \xe5\x8c\x97\xe4\xba\xac\r\nContent-Length: 3\r\n\r\nabc"
    )
    second = b"GET //x?prefix=a+b HTTP/1.1\r\nHost: " + host + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    second += b"2\r\nhi\r\n0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
        sock.sendall(first + second)  # pipelined on one connection
        answers = _read_responses(sock, 2)

    one, two = proxy.requests
    assert one.request_line == b"PUT /a/.%2Fb HTTP/1.1"
    assert one.header("X-COS-META-CITY") == "北京".encode()  # raw UTF-8, not latin-1 text
    assert one.body == b"abc"
    assert (two.method, two.path, two.target) == ("GET", b"//x", b"//x?prefix=a+b")
    assert two.body == b"hi"
    # The emulator answered both (unsigned: 403), and the answers came back through the proxy.
    assert answers.count(b"HTTP/1.1 403 Forbidden") == 2


def test_absolute_form_targets_expose_their_path(cos, proxy: RecordingProxy) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
        sock.sendall(b"HEAD http://h.example/k%20y?versionId=1 HTTP/1.1\r\nHost: h.example\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 4")
    assert proxy.only("HEAD").path == b"/k%20y"
