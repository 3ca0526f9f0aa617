"""Audit rows of the network: each message sent, received or refused, on its own side.

The actor of such a row is the other deployment (its base URL, role "peer"), not a person,
so these rows are written here rather than through core.audit.audit, which names a user.
"""

from core.audit import client_addr
from models import AuditEvent, db


def record(action: str, *, peer_url: str, message_id: str, result: str = "ok", detail=None):
    """Append one audit row about a message exchanged with `peer_url`."""
    with db.atomic():
        return AuditEvent.append(
            action=action,
            actor=(peer_url or "")[:60],
            role="peer",
            object_type="message",
            object_id=(message_id or "")[:64],
            result=result[:30],
            client_addr=client_addr(),
            detail={"peer": peer_url, **(detail or {})},
        )
