"""The receipt code in the thank-you page's URL, signed so that nobody can make
the site show a code it never gave, nor show one channel's receipt under another
channel's address.

Token: ``<code>.<base64url HMAC-SHA256, 24 bytes>`` of the channel's id and the
code, with a key derived from the secret for this purpose only: checking it
reads nothing from the database. Links given before receipts named their channel
still load, on their own channel's page only (the database says which): tokens
of the same shape without the channel (``survey-receipt-v2``) and itsdangerous'
(``<base64 JSON>.<signature>``). Signing with itsdangerous was about 1.5% of a
resident's submission (a JSON round trip and a key derivation each time).
"""

from __future__ import annotations

import hmac
import re

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from survey.respond.state import signature, signing_serializer

_CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}")


def withdrawable(code: str) -> bool:
    """Whether an answer with this (normalised) receipt code is stored and not withdrawn."""
    from survey.extensions import db
    from survey.models import Response

    return (
        db.session.scalar(
            select(Response.id).where(
                Response.receipt_code == code, Response.withdrawn_at.is_(None)
            )
        )
        is not None
    )


def channel_of(code: str) -> int | None:
    """The channel of the response with this receipt code, or None when there is none."""
    from survey.extensions import db
    from survey.models import Response

    return db.session.scalar(select(Response.channel_id).where(Response.receipt_code == code))


def _mac(code: str, channel_id: int) -> str:
    return signature(b"survey-receipt-v3", f"{channel_id}/{code}".encode()).decode()


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def sign(code: str, channel_id: int) -> str:
    """The URL token of a receipt code of channel *channel_id*."""
    return f"{code}.{_mac(code, channel_id)}"


def code_of(token: str, channel_id: int | None = None) -> str | None:
    """The receipt code a token was made for, or None when it is forged or damaged,
    or, given *channel_id*, made for another channel. Without *channel_id* (the
    withdrawal link) the database says whose it is."""
    code, _, mac = token.partition(".")
    if _CODE.fullmatch(code):
        if channel_id is not None and _equal(mac, _mac(code, channel_id)):
            return code  # the usual case: nothing read
        if not _equal(mac, signature(b"survey-receipt-v2", code.encode()).decode()):
            if channel_id is not None:
                return None
            owner = channel_of(code)
            return code if owner is not None and _equal(mac, _mac(code, owner)) else None
    else:
        serializer = signing_serializer(  # a link given before this format
            URLSafeSerializer, current_app.config["SECRET_KEY"], "survey-receipt"
        )
        try:
            code = serializer.loads(token)
        except BadSignature:
            return None
        if not isinstance(code, str):
            return None
    # A link given before receipts named their channel: its own channel's only.
    return code if channel_id is None or channel_of(code) == channel_id else None
