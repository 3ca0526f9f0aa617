"""The processes a bench run starts and measures: gunicorn nodes, the audit integrator, the
delaying proxy in front of PostgreSQL, and the CPU time they use, read from /proc."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from bench import city, dataset
from bench.city import OUT, ROOT, VENV_BIN, log


class Server:
    """gunicorn with the real app factory on loopback, as deploy/jiaoguan.service runs it."""

    def __init__(self, port: int, workers: int, meta: dict, app_dir: str = ROOT, db_url: str = ""):
        """Settings as environment variables, like a deployment's /etc/jiaoguan/env."""
        self.port, self.workers, self.app_dir = port, workers, app_dir
        self.log_path = os.path.join(OUT, "server.log" if port == 5800 else f"server-{port}.log")
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url or city.DB_URL,
            # The set-up logs thousands of citizens in from one address (127.0.0.1); the
            # address counter counts every login attempt and is never reset by a right
            # password (core/throttle.py), so it is lifted for the bench.
            "LOGIN_ADDRESS_MAX_FAILURES": "100000000",
            # The cached sessions (sessions.json) are reused by runs hours or days apart; a
            # session idle for SESSION_IDLE_MINUTES (2 h) is refused, and every applicant's
            # request would then fail on its CSRF token. Their signatures still decide.
            "SESSION_IDLE_MINUTES": str(60 * 24 * 365),
            # Every node and the integrator sign with the same deployment key.
            "NETWORK_KEY_FOLDER": os.path.join(city.CITY, "network"),
            "SECRET_KEY": meta["secret_key"],
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "PASSWORD_HASH_METHOD": dataset.PASSWORD_HASH_METHOD,
            "UPLOAD_FOLDER": os.path.join(OUT, "uploads"),
        }
        self.proc = None

    def __enter__(self):
        """Start it and wait until /healthz answers."""
        self.log_file = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [
                os.path.join(VENV_BIN, "gunicorn"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--backlog",
                "2048",
                "app:create_app()",
            ],
            cwd=self.app_dir,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"gunicorn exited; see {self.log_path}") from None
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer in 30 s")

    def __exit__(self, *exc):
        """Stop gunicorn (the master stops its workers)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log_file.close()

    def log_offset(self) -> int:
        """Where the server log ends now (to count what a scenario logged)."""
        self.log_file.flush()
        return os.path.getsize(self.log_path)

    def locked_since(self, offset: int) -> int:
        """'database is locked' errors the server logged since `offset`."""
        with open(self.log_path, "rb") as fh:
            fh.seek(offset)
            return fh.read().count(b"database is locked")


class Integrator:
    """`flask audit integrate` beside the server(s), as deploy/jiaoguan-audit.service runs it
    (the same settings, one batch every half second)."""

    def __init__(self, env: dict, app_dir: str = ROOT):
        """The integrator of the deployment whose environment is `env`."""
        self.env, self.app_dir, self.proc = env, app_dir, None
        self.log_path = os.path.join(OUT, "integrator.log")

    def catch_up(self) -> None:
        """Number what waits (a new city's month of entries) before anything is measured."""
        started = time.time()
        subprocess.run(
            [os.path.join(VENV_BIN, "flask"), "audit", "integrate", "--once"],
            cwd=self.app_dir,
            env={**self.env, "FLASK_APP": "app:create_app"},
            check=True,
            capture_output=True,
        )
        log(f"  audit entries waiting integrated in {time.time() - started:.0f} s")

    def __enter__(self):
        """Start it."""
        self.log_file = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [os.path.join(VENV_BIN, "flask"), "audit", "integrate"],
            cwd=self.app_dir,
            env={**self.env, "FLASK_APP": "app:create_app"},
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        return self

    def __exit__(self, *exc):
        """SIGTERM: it stops after the batch in hand."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log_file.close()


class DelayProxy:
    """bench/delayproxy.py between the application and PostgreSQL (1 ms each way)."""

    def __init__(self, pg_url: str, port: int, delay_ms: float):
        """A proxy on `port` in front of the database of `pg_url`."""
        parts = urllib.parse.urlsplit(pg_url)
        self.target = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
        self.url = parts._replace(netloc=parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{port}")
        self.url = urllib.parse.urlunsplit(self.url)
        self.port, self.delay_ms, self.proc = port, delay_ms, None

    def __enter__(self):
        """Start it and wait until it accepts."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.delayproxy", "--listen", f"127.0.0.1:{self.port}"]
            + ["--target", self.target, "--delay-ms", str(self.delay_ms)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )

        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the delaying proxy did not start")

    def __exit__(self, *exc):
        """Stop it."""
        self.proc.terminate()
        self.proc.wait(timeout=10)


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (proc(5) fields 3 on), or None
    when the process has ended."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a gunicorn master's workers), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = proc_stat(int(entry))
            if fields and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user + system) the processes `pids` have used so far, from /proc: what a
    scenario cost the machine, whatever else shared it (unlike requests a second, which the
    load of others and wrk's own share of the cores move)."""
    ticks = 0
    for pid in pids:
        fields = proc_stat(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (proc(5) fields 14, 15)
    return ticks / os.sysconf("SC_CLK_TCK")
