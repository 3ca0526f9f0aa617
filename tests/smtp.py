"""A real SMTP server for tests (aiosmtpd, in a thread of the test process) and a mailbox that,
like a mail store, recognises a second copy of a message by its Message-ID."""

import email
import email.policy
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from .nodes import free_port


@dataclass
class Mailbox:
    """What the server received: every copy in `raw` (in order), and one per Message-ID."""

    raw: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set by the server when a message arrives while `hold` is set; the server then waits for
    # `release` before answering (a slow server, to kill a client mid-delivery).
    hold: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    refuse: set = field(default_factory=set)  # recipients answered 550

    @property
    def messages(self) -> list:
        """One message per Message-ID, the first copy of each."""
        seen, out = set(), []
        for message in self.raw:
            if message["Message-ID"] not in seen:
                seen.add(message["Message-ID"])
                out.append(message)
        return out

    def to(self, address: str) -> list:
        """The messages (one per Message-ID) sent to `address`."""
        return [m for m in self.messages if m["To"] == address]


class Handler:
    """aiosmtpd handler filling a Mailbox."""

    def __init__(self, mailbox: Mailbox):
        self.mailbox = mailbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Refuse the recipients the test named, accept the others."""
        if address in self.mailbox.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """Keep the message (then, when holding, wait for the test before answering)."""
        import asyncio

        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.mailbox.lock:
            self.mailbox.raw.append(message)
        if self.mailbox.hold.is_set():
            self.mailbox.hold.clear()
            self.mailbox.arrived.set()
            await asyncio.get_running_loop().run_in_executor(None, self.mailbox.release.wait, 60)
        return "250 Message accepted for delivery"


class SmtpServer:
    """An SMTP server on a free loopback port; stop() ends it."""

    def __init__(self):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(
            Handler(self.mailbox), hostname="127.0.0.1", port=self.port, ready_timeout=30
        )
        self.controller.start()

    def settings(self) -> dict:
        """The app's settings that point at this server."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_TLS": "none"}

    def stop(self) -> None:
        """Stop the server (a held answer is released first); stopping twice is harmless."""
        self.mailbox.release.set()
        if self.controller._thread is not None:
            self.controller.stop()
