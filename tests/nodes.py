"""Real app nodes for tests: gunicorn processes on loopback ports sharing one database, and a
small cookie-keeping HTTP client that sends the CSRF token as a browser form would."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
VERDICT_RE = re.compile(r'<meta name="verification-result" content="([a-z-]+)">')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """One gunicorn server of the app (its own processes), stopped with stop() or kill()."""

    def __init__(
        self, database_url: str, instance: str, workers: int = 2, port: int = 0, **settings
    ):
        self.port = port or free_port()  # a node restarted keeps its address
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "shared-by-all-nodes",
            "PUBLIC_BASE_URL": self.url,
            "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
            "UPLOAD_FOLDER": os.path.join(instance, "uploads"),
            # The node's own folder, not the checkout's: its keys, its development SMS file.
            "INSTANCE_PATH": instance,
            **{k: str(v) for k, v in settings.items()},
        }
        self.log = open(os.path.join(instance, f"node-{self.port}.log"), "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--graceful-timeout",
                "2",
                "app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2).read()  # noqa: S310
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise RuntimeError(f"node on {self.port} did not start")

    def kill(self) -> None:
        """kill -9 the master and its workers at once: no chance to clean up."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        """Stop gracefully (kill after 10 s)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.log.close()


class Browser:
    """Keeps cookies like a browser (across nodes of the same host) and posts real forms."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, url, data=None, timeout=30):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            response = self.opener.open(url, body, timeout=timeout)
        except urllib.error.HTTPError as exc:  # 3xx, 4xx, 5xx: still a response
            return exc.code, exc.headers, exc.read().decode()
        return response.status, response.headers, response.read().decode()

    def get(self, url):
        return self.request(url)

    def post(self, url, data, token_from=None):
        """Post a form with the CSRF token of the page it lives on (or of `token_from`)."""
        _, _, html = self.get(token_from or url)
        return self.request(url, {**data, "csrf_token": TOKEN_RE.search(html).group(1)})


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Let the test see 302/303 answers instead of following them."""

    def redirect_request(self, *args, **kwargs):
        return None


def verdict(html: str) -> str:
    return VERDICT_RE.search(html).group(1)


class PgServer:
    """A throwaway PostgreSQL server of its own (initdb in a temporary folder), which a test may
    stop and start again. Needs Debian's postgresql binaries and root (to run as `postgres`)."""

    def __init__(self):
        import glob
        import shutil
        import tempfile

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found or shutil.which("runuser") is None:
            raise RuntimeError("PostgreSQL server binaries not found")
        self.bin = os.path.dirname(found[-1])
        self.dir = tempfile.mkdtemp(prefix="jg-pg-", dir="/tmp")
        shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self.url = f"postgresql://jiaoguan@127.0.0.1:{self.port}/jiaoguan"
        self._pg("initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "jiaoguan", "-E", "UTF8")
        self.start()
        self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "jiaoguan", "jiaoguan")

    def _pg(self, tool, *args):
        subprocess.run(
            ["runuser", "-u", "postgres", "--", f"{self.bin}/{tool}", *args],
            check=True,
            capture_output=True,
            cwd="/tmp",
        )

    def start(self):
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._pg(
            "pg_ctl", "-D", f"{self.dir}/data", "-o", opts, "-l", f"{self.dir}/log", "-w", "start"
        )

    def stop(self):
        self._pg("pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop")

    def destroy(self):
        import shutil

        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                f"{self.bin}/pg_ctl",
                "-D",
                f"{self.dir}/data",
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
            cwd="/tmp",
        )
        shutil.rmtree(self.dir, ignore_errors=True)
