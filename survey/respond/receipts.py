"""The receipt code in the thank-you page's URL, signed so that nobody can make
the site show a code it never gave.

Token: ``<code>.<base64url HMAC-SHA256, 24 bytes>`` with a key derived from the
secret for this purpose only. itsdangerous' tokens (``<base64 JSON>.<signature>``),
of links given before this format, still load. Signing with itsdangerous was
about 1.5% of a resident's submission (a JSON round trip and a key derivation
each time).
"""

from __future__ import annotations

import hmac
import re

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from survey.respond.state import signature, signing_serializer

_CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}")


def normal_code(typed: str) -> str:
    """A receipt code as typed (any case, spaces, the dash left out) written as
    issued, e.g. ``q538 ufwd`` → ``Q538-UFWD``: the normalisation of
    :func:`survey.operations.responses.withdraw_response`."""
    code = typed.strip().upper().replace(" ", "")
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


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


def _mac(code: str) -> str:
    return signature(b"survey-receipt-v2", code.encode()).decode()


def sign(code: str) -> str:
    """The URL token of a receipt code."""
    return f"{code}.{_mac(code)}"


def code_of(token: str) -> str | None:
    """The receipt code a token was made for, or None when it is forged or damaged."""
    code, _, mac = token.partition(".")
    if _CODE.fullmatch(code):
        return code if hmac.compare_digest(mac.encode(), _mac(code).encode()) else None
    serializer = signing_serializer(  # a link given before this format
        URLSafeSerializer, current_app.config["SECRET_KEY"], "survey-receipt"
    )
    try:
        code = serializer.loads(token)
    except BadSignature:
        return None
    return code if isinstance(code, str) else None
