"""The bench's processes: the CPU time of a server's workers, read from /proc."""

import os
import subprocess
import sys
import time

from bench import processes


def test_the_cpu_of_a_servers_workers_is_read_from_proc():
    """The bench counts the CPU time of a gunicorn master's children: found by their parent,
    and growing with the work they do (not with the time they wait)."""
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; "
            "busy = subprocess.Popen([sys.executable, '-c', 'while True: pass']); "
            "idle = subprocess.Popen(['sleep', '30']); busy.wait()",
        ]
    )
    try:
        deadline = time.monotonic() + 10
        while len(processes.children_of(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        children = processes.children_of(parent.pid)
        assert len(children) == 2
        start = processes.cpu_seconds(children)
        while processes.cpu_seconds(children) - start < 0.2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes.cpu_seconds(children) - start >= 0.2
        assert processes.cpu_seconds([parent.pid]) < 1  # the parent only waits
    finally:
        for pid in processes.children_of(parent.pid):
            os.kill(pid, 9)
        parent.wait()
