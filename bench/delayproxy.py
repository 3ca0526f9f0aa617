"""A TCP proxy that delays every chunk by a fixed time each way: a database on another machine.

    .venv/bin/python -m bench.delayproxy --listen 127.0.0.1:15432 --target 127.0.0.1:5432 \
        --delay-ms 1

`make bench-pg` puts it between the application and PostgreSQL so that every round trip costs
2 ms more (1 ms each way), as a database across a data-centre network does, without root or
`tc netem`. Each direction of each connection has a reader thread and a writer thread: a chunk
read at time t is written at t + delay, in order, so the delay adds to the latency but never
limits the throughput of a stream (a chunk read while earlier ones wait is not held behind
their delays). Threads and time.sleep rather than asyncio: the event loop rounds its timers up
to whole milliseconds (epoll), which made 1 ms into 1.5-2. Standard library only.
"""

import argparse
import contextlib
import queue
import signal
import socket
import sys
import threading
import time


def relay(source: socket.socket, sink: socket.socket, delay: float) -> None:
    """Copy one direction, each chunk sent `delay` seconds after it was read."""
    chunks: queue.Queue = queue.Queue()

    def deliver():
        try:
            while True:
                due, data = chunks.get()
                if data is None:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    writer = threading.Thread(target=deliver, daemon=True)
    writer.start()
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            chunks.put((time.monotonic() + delay, data))
    except OSError:
        pass
    chunks.put((0.0, None))
    writer.join()


def handle(client: socket.socket, target: tuple[str, int], delay: float) -> None:
    """Relay one connection to the target, both ways, then close both ends."""
    try:
        server = socket.create_connection(target)
    except OSError:
        client.close()
        return
    for s in (client, server):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=relay, args=(server, client, delay), daemon=True)
    back.start()
    relay(client, server, delay)
    back.join()
    client.close()
    server.close()


def serve(listen: tuple[str, int], target: tuple[str, int], delay: float) -> None:
    """Accept connections on `listen` for ever, each relayed in threads of its own."""
    sock = socket.create_server(listen, backlog=512)
    print(f"delaying {listen[0]}:{listen[1]} -> {target[0]}:{target[1]} by {delay * 1000:g} ms")
    sys.stdout.flush()
    while True:
        client, _ = sock.accept()
        threading.Thread(target=handle, args=(client, target, delay), daemon=True).start()


def address(text: str) -> tuple[str, int]:
    """host:port as a pair."""
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv=None) -> int:
    """Run the proxy until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=address, required=True)
    parser.add_argument("--target", type=address, required=True)
    parser.add_argument("--delay-ms", type=float, default=1.0, help="each way")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(args.listen, args.target, args.delay_ms / 1000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
