"""A small HTTP client for the bench's set-up: logging people in like a browser does.

Sessions are made through the real pages (GET /login for the CSRF token, POST /login, staff
through their authenticator step), never minted from the secret key, and kept in
bench/out/sessions.json for the database build they belong to: a signed session cookie stays
good until its user's session token changes, so later runs skip the logins.
"""

import http.client
import json
import os
import re
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pyotp

USER_AGENT = "jiaoguan-bench"  # the same in wrk: Flask-Login's session protection hashes it
COOKIE_RE = re.compile(r"jg_session=([^;]+)")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """One keep-alive-less HTTP/1.1 client to the bench server (gunicorn sync closes anyway)."""

    def __init__(self, port: int):
        """Talk to 127.0.0.1:port."""
        self.port = port

    def request(self, method: str, path: str, cookie: str = "", body: dict | None = None):
        """(status, headers dict, body text, new session cookie or the given one)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"User-Agent": USER_AGENT}
        if cookie:
            headers["Cookie"] = f"jg_session={cookie}"
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            set_cookie = resp.getheader("Set-Cookie") or ""
        finally:
            conn.close()
        match = COOKIE_RE.search(set_cookie)
        return resp.status, dict(resp.getheaders()), text, (match.group(1) if match else cookie)

    def csrf_page(self, path: str, cookie: str = "") -> tuple[str, str]:
        """GET a page with a form: (session cookie, CSRF token)."""
        status, _h, text, cookie = self.request("GET", path, cookie)
        match = CSRF_RE.search(text)
        if status != 200 or not match:
            raise RuntimeError(f"GET {path}: {status}, no CSRF token")
        return cookie, match.group(1)

    def login_citizen(self, account: str, password: str, pre: tuple[str, str]) -> dict:
        """Log a citizen in, then open their e-licence page as a browser would after login.

        `pre` is a logged-out session and its CSRF token from GET /login, shared by many
        logins (a browser tab that logs in again and again reuses its form the same way).
        Returns {"cookie", "csrf"}: a session cookie that carries a CSRF token for POSTs.
        """
        pre_cookie, pre_token = pre
        status, _h, _t, cookie = self.request(
            "POST",
            "/login",
            pre_cookie,
            {"csrf_token": pre_token, "account": account, "password": password},
        )
        if status != 303 or cookie == pre_cookie:
            raise RuntimeError(f"login of {account}: {status}")
        cookie, token = self.csrf_page("/licence/", cookie)
        return {"cookie": cookie, "csrf": token}

    def login_staff(self, username: str, password: str, totp_secret: str) -> dict:
        """Log a staff member in: password, then a fresh code of their authenticator."""
        cookie, token = self.csrf_page("/login")
        status, _h, _t, cookie = self.request(
            "POST",
            "/login",
            cookie,
            {"csrf_token": token, "account": username, "password": password},
        )
        if status != 303:
            raise RuntimeError(f"staff login of {username}: {status}")
        cookie, token = self.csrf_page("/login/code", cookie)
        totp = pyotp.TOTP(totp_secret)
        for _attempt in range(3):
            status, _h, _t, new_cookie = self.request(
                "POST", "/login/code", cookie, {"csrf_token": token, "code": totp.now()}
            )
            if status == 303:
                cookie, token = self.csrf_page("/account", new_cookie)
                return {"cookie": cookie, "csrf": token}
            time.sleep(31 - time.time() % 30)  # this step's code was used: wait for the next
        raise RuntimeError(f"staff code step of {username} failed")


class SessionStore:
    """Session cookies per user id, kept on disk for one database build."""

    def __init__(self, path: str, build_id: str):
        """Load the sessions of this build (others are dropped)."""
        self.path, self.build_id = path, build_id
        self.sessions: dict[str, dict] = {}
        if os.path.exists(path):
            with open(path) as fh:
                data = json.load(fh)
            if data.get("build_id") == build_id:
                self.sessions = data["sessions"]
        self.lock = threading.Lock()

    def save(self) -> None:
        """Write the sessions out."""
        tmp = self.path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump({"build_id": self.build_id, "sessions": self.sessions}, fh)
        os.replace(tmp, self.path)

    def get(self, user_id: int) -> dict | None:
        """The session of a user, if logged in before."""
        return self.sessions.get(str(user_id))

    def ensure_citizens(
        self,
        client: Client,
        people: list[tuple[int, str]],
        password: str,
        progress=print,
        workers: int = 8,
    ) -> None:
        """Log in every (user id, mobile) not logged in yet, a few at a time."""
        missing = [(uid, mobile) for uid, mobile in people if str(uid) not in self.sessions]
        if not missing:
            return
        progress(f"  logging in {len(missing):,} citizens (once per database build)")
        pre = client.csrf_page("/login")
        started, done = time.time(), 0

        def one(person):
            uid, mobile = person
            session = client.login_citizen(mobile, password, pre)
            with self.lock:
                self.sessions[str(uid)] = session

        with ThreadPoolExecutor(workers) as pool:
            for _ in pool.map(one, missing):
                done += 1
                if done % 5000 == 0:
                    progress(f"    {done:,} ({done / (time.time() - started):.0f}/s)")
        self.save()
