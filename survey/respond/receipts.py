"""The receipt code, signed so that nobody can make the site show a code it never
gave, nor show one channel's receipt under another channel's address.

The thank-you page (``/s/<token>/thanks``) reads it from a short-lived cookie
(:func:`set_cookie`): an address with the code in it stayed in the phone's
history, where the next person on a shared phone found it, and whoever holds
a code can withdraw that answer. Cookie value: ``<code>.<hex time>.<signature>``
of the channel's id, the code and the time it was given; the server refuses it
after :data:`COOKIE_SECONDS`, whatever the browser keeps.

Link token (in the addresses given before the cookie,
``/s/<token>/thanks/<receipt>``, which now set it and lead on):
``<code>.<base64url HMAC-SHA256, 24 bytes>`` of the channel's id and the code,
with a key derived from the secret for this purpose only: checking it reads
nothing from the database. Links given before receipts named their channel
still load, on their own channel's page only (the database says which): tokens
of the same shape without the channel (``survey-receipt-v2``) and itsdangerous'
(``<base64 JSON>.<signature>``). Signing with itsdangerous was about 1.5% of a
resident's submission (a JSON round trip and a key derivation each time).
"""

from __future__ import annotations

import hmac
import re
import time

from flask import current_app, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from survey.respond.state import CLOCK_SKEW, signature, signing_serializer

_CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}")


def is_code(code: str) -> bool:
    """Whether *code* (normalised) has the shape of the receipt codes the site gives."""
    return _CODE.fullmatch(code) is not None


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


def channel_with_token_of(code: str) -> tuple[int, str] | None:
    """The id and token of the channel of the response with this receipt code, or None."""
    from survey.extensions import db
    from survey.models import Channel, Response

    found = db.session.execute(
        select(Channel.id, Channel.token)
        .join(Response, Response.channel_id == Channel.id)
        .where(Response.receipt_code == code)
    ).first()
    return None if found is None else (found[0], found[1])


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


#: What the withdraw page's "done" step signs: the code it says was withdrawn.
_DONE_PAGE = b"survey-withdrawn-page-v1"


def withdrawn_mark(code: str) -> str:
    """The mark of the page saying receipt *code* was withdrawn, posted by its
    text-size button (in the form, never in an address) so that the same page
    comes back in the other size: the server wrote it, nobody else can."""
    return signature(_DONE_PAGE, code.encode()).decode()


def is_withdrawn_mark(code: str, mark: str) -> bool:
    """Whether *mark* is :func:`withdrawn_mark` of *code* (nothing read)."""
    return is_code(code) and _equal(mark, withdrawn_mark(code))


#: The cookie that takes the signed receipt from the submission to the thank-you page.
COOKIE = "sv_receipt"

#: How long the thank-you page shows the code again (a reload, the phone
#: reloading a page it had put away, coming back from the withdraw page): half
#: an hour covers those, and a shared phone's next person, who could otherwise
#: open the page from the history, gets the code only within it (or not at
#: all once they open the channel's landing page, which drops the cookie).
COOKIE_SECONDS = 30 * 60


#: What a cookie's signature is for: a receipt to show, or a receipt withdrawn since.
_RECEIPT, _WITHDRAWN = b"survey-receipt-cookie-v1", b"survey-withdrawn-cookie-v1"


def _cookie_mac(code: str, channel_id: int, stamp: str, purpose: bytes = _RECEIPT) -> str:
    return signature(purpose, f"{channel_id}/{code}/{stamp}".encode()).decode()


def _cookie_path(token: str) -> str:
    """The channel's pages (``/s/<token>`` and below): the only ones the browser
    sends the cookie to; the landing page and consent drop it."""
    return url_for("respond.landing", token=token)


def secure() -> bool:
    """Secure as the device cookie (always in production), and over HTTPS in any case."""
    return bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def set_cookie(response, thanks_page: str, code: str, channel_id: int) -> None:
    """Give receipt *code* of channel *channel_id* to its thank-you page (address
    *thanks_page*): HttpOnly (no script reads it), SameSite=Lax as the app's
    other cookies, for :data:`COOKIE_SECONDS`, sent to that channel's pages only."""
    path = thanks_page.rpartition("/")[0]  # /s/<token>: as _cookie_path, without url_for
    _give(response, path, code, channel_id, _RECEIPT)


def set_withdrawn(response, token: str, code: str, channel_id: int) -> None:
    """After receipt *code* of channel *token* (id *channel_id*) was withdrawn:
    the thank-you page of this phone, reloaded or reached with Back, says so
    instead of showing the code as a receipt still valid. It replaces the
    receipt cookie (sent by the browser to the channel's pages only, so this
    response, of ``/withdraw``, cannot see whether there is one)."""
    _give(response, _cookie_path(token), code, channel_id, _WITHDRAWN)


def _give(response, path: str, code: str, channel_id: int, purpose: bytes) -> None:
    stamp = format(int(time.time()), "x")
    response.set_cookie(
        COOKIE,
        f"{code}.{stamp}.{_cookie_mac(code, channel_id, stamp, purpose)}",
        max_age=COOKIE_SECONDS,
        path=path,
        httponly=True,
        samesite="Lax",
        secure=secure(),
    )


def forget_cookie(response, token: str) -> None:
    """Drop the receipt cookie of channel *token* if the browser sent it: a new
    questionnaire begins on this phone, whose previous person's code is no
    longer shown (nor sent with the next person's answers)."""
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path=_cookie_path(token), httponly=True,
                               samesite="Lax", secure=secure())  # fmt: skip


def code_in_cookie(channel_id: int, now: float | None = None) -> str | None:
    """The receipt code the request's cookie holds for channel *channel_id*, or
    None: no cookie, forged or damaged, another channel's, older than
    :data:`COOKIE_SECONDS`, or withdrawn since (:func:`withdrawn_in_cookie`)."""
    return _code_in_cookie(channel_id, _RECEIPT, now)


def withdrawn_in_cookie(channel_id: int, now: float | None = None) -> str | None:
    """The receipt code of channel *channel_id* withdrawn from this phone within
    :data:`COOKIE_SECONDS` (:func:`set_withdrawn`), or None."""
    return _code_in_cookie(channel_id, _WITHDRAWN, now)


def _code_in_cookie(channel_id: int, purpose: bytes, now: float | None) -> str | None:
    value = request.cookies.get(COOKIE, "")
    code, _, rest = value.partition(".")
    stamp, _, mac = rest.partition(".")
    if not _CODE.fullmatch(code) or not 0 < len(stamp) <= 12:
        return None
    try:
        given = int(stamp, 16)
    except ValueError:
        return None
    if not _equal(mac, _cookie_mac(code, channel_id, stamp, purpose)):
        return None
    now = time.time() if now is None else now
    if given > now + CLOCK_SKEW or now - given > COOKIE_SECONDS:
        return None
    return code
