"""The bench's delaying TCP proxy passes every byte through, in order, and never faster than
its delay (a lower bound only: the suite asserts no upper timings)."""

import socket
import threading
import time

from bench import delayproxy


def echo_server() -> tuple[socket.socket, int]:
    """A server that sends back whatever it receives, on a free port."""
    sock = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return

            def echo(c=conn):
                with c:
                    while data := c.recv(65536):
                        c.sendall(data)

            threading.Thread(target=echo, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return sock, sock.getsockname()[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bytes_pass_in_order_with_the_delay_both_ways():
    echo, echo_port = echo_server()
    port = free_port()
    threading.Thread(
        target=delayproxy.serve,
        args=(("127.0.0.1", port), ("127.0.0.1", echo_port), 0.005),
        daemon=True,
    ).start()
    deadline = time.monotonic() + 10
    while True:
        try:
            client = socket.create_connection(("127.0.0.1", port))
            break
        except ConnectionRefusedError:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    client.settimeout(30)  # a broken relay fails the test instead of hanging it
    with client:
        payload = bytes(range(256)) * 4000  # 1 MB in many chunks
        started = time.monotonic()
        client.sendall(b"ping")
        assert client.recv(4) == b"ping"
        assert time.monotonic() - started >= 0.010  # 5 ms each way at least
        sender = threading.Thread(target=client.sendall, args=(payload,))
        sender.start()
        got = bytearray()
        while len(got) < len(payload):
            got += client.recv(65536)
        sender.join()
        assert bytes(got) == payload
    echo.close()


def test_address_parses_host_and_port():
    assert delayproxy.address("10.0.0.5:6432") == ("10.0.0.5", 6432)
    assert delayproxy.address(":15432") == ("127.0.0.1", 15432)
