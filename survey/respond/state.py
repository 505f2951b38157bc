"""The questionnaire's state between pages, carried in a signed hidden field.

Keeping earlier pages' answers in the form (signed with the app's secret, so
they cannot be forged) lets any app process serve any page: nothing is
written to the database until the last page is submitted.

Token: ``2.<base64url JSON>.<hex time>.<base64url HMAC-SHA256, 24 bytes>``, the
HMAC over everything before its dot, with a key derived from the secret for
this purpose only. It is checked before anything in it is read. Signing and
checking it with itsdangerous was about 7% of a resident's request; the
hand-written form costs half. Tokens that itsdangerous wrote (pages rendered
before this format, plain or compressed) still load until they expire.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from survey.models import utcnow


class StateError(Exception):
    """The state is missing, forged or expired; the resident must start again."""

    def __init__(self, expired: bool = False):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass
class FormState:
    channel_id: int
    submission_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=utcnow)
    page: int = 0
    #: Checked answers of the pages passed with 下一页.
    answers: dict = field(default_factory=dict)
    #: What was entered on a page left with 上一页, unchecked (question id → raw
    #: value): shown again when the resident returns there, never stored or scored.
    drafts: dict = field(default_factory=dict)


@lru_cache(maxsize=8)
def signing_serializer(kind: type, secret: str, salt: str):
    """An itsdangerous serializer of *kind*, built once per secret and salt (building
    one on every request cost a JSON round trip each time)."""
    return kind(secret, salt=salt)


def _serializer() -> URLSafeTimedSerializer:
    """itsdangerous' form-state serializer: reads the tokens of the format before."""
    return signing_serializer(
        URLSafeTimedSerializer, current_app.config["SECRET_KEY"], "survey-form-state"
    )


#: Marks the current token format (itsdangerous tokens start with "eyJ" or ".").
_VERSION = "2."
#: Seconds a signed token's time may lie in the future (clocks of several app
#: servers): form state and residents' CSRF tokens.
CLOCK_SKEW = 60


@lru_cache(maxsize=8)
def purpose_key(secret: str, purpose: bytes) -> bytes:
    """A key derived from the app's secret for one kind of token only (form state,
    residents' CSRF tokens): a token of one kind is never valid as another."""
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def signature(purpose: bytes, data: bytes) -> bytes:
    """The signature of *data* for one kind of token (form state, receipt links):
    base64url of the first 24 bytes of its HMAC-SHA256 with the purpose's key
    (32 characters, no padding)."""
    key = purpose_key(current_app._get_current_object().config["SECRET_KEY"], purpose)
    return base64.urlsafe_b64encode(hmac.new(key, data, hashlib.sha256).digest()[:24])


def _mac(signed: bytes) -> bytes:
    return signature(b"survey-form-state-v2", signed)


def dump_state(state: FormState) -> str:
    data = {
        "c": state.channel_id,
        "s": state.submission_id,
        "t": state.started_at.isoformat(timespec="seconds"),
        "p": state.page,
        "a": state.answers,
    }
    if state.drafts:
        data["d"] = state.drafts
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    payload = base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
    signed = f"{_VERSION}{payload}.{int(time.time()):x}"
    return f"{signed}.{_mac(signed.encode()).decode()}"


def _load_v2(token: str, max_age: int) -> dict:
    signed, _, mac = token.rpartition(".")
    if not hmac.compare_digest(mac.encode(), _mac(signed.encode())):
        raise StateError()
    _, payload, stamp = signed.split(".")
    made = int(stamp, 16)
    now = time.time()
    if made > now + CLOCK_SKEW:
        raise StateError()
    if now - made > max_age:
        raise StateError(expired=True)
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def load_state(token: str | None, channel_id: int) -> FormState:
    if not token:
        raise StateError()
    max_age = current_app._get_current_object().config["FORM_STATE_MAX_AGE"]
    try:
        if token.startswith(_VERSION):
            data = _load_v2(token, max_age)
        else:  # written by itsdangerous before this format
            data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise StateError(expired=True) from exc
    except (BadSignature, ValueError, TypeError, binascii.Error, UnicodeError) as exc:
        raise StateError() from exc
    try:
        if data["c"] != channel_id:
            raise StateError()
        return FormState(
            channel_id=data["c"],
            submission_id=str(data["s"]),
            started_at=datetime.fromisoformat(data["t"]),
            page=int(data["p"]),
            answers=dict(data["a"]),
            drafts=dict(data.get("d") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError() from exc
