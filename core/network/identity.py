"""This deployment's identity as others see it: its name, city, offices and public keys, in
the signed document served at /.well-known/jiaoguan.json."""

import time

from flask import current_app

from models import Office

from . import keys
from .envelope import sign_document

FORMAT = 1  # the document's format version: a peer refuses one it does not know
INBOX_PATH = "/network/inbox"


def base_url() -> str:
    """This deployment's identity on the network: its public base URL."""
    return current_app.config["PUBLIC_BASE_URL"]


def document() -> dict:
    """The document's payload: who we are, which offices and plates are ours, our keys."""
    local = list(Office.select().where(Office.is_local == True).order_by(Office.code))  # noqa: E712
    city = current_app.config["DEPLOYMENT_CITY"] or (local[0].city if local else "")
    return {
        "jiaoguan": FORMAT,
        "name": current_app.config["DEPLOYMENT_NAME"] or city,
        "city": city,
        "base_url": base_url(),
        "inbox": base_url() + INBOX_PATH,
        "offices": [
            {
                "code": o.code,
                "name": o.name,
                "name_en": o.name_en,
                "kind": o.kind,
                "city": o.city,
                "city_en": o.city_en,
                "plate_prefix": o.plate_prefix,
            }
            for o in local
        ],
        # The first characters of this deployment's typing keys and share codes: a verifier of
        # another city sends a check of such a key here (README, "Checks across cities").
        "licence_key_prefix": current_app.config.get("LICENCE_KEY_PREFIX", ""),
        "keys": [k.public_jwk() for k in keys.all_keys()],
        "iat": int(time.time()),
    }


def signed_document() -> dict:
    """The document signed by every published key (general JSON JWS)."""
    payload = document()
    return sign_document(payload, keys.all_keys())
