"""The questionnaire's state between pages, carried in a signed hidden field.

Keeping earlier pages' answers in the form (signed with the app's secret, so
they cannot be forged) lets any app process serve any page: nothing is
written to the database until the last page is submitted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.url_safe import URLSafeSerializerMixin

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
    answers: dict = field(default_factory=dict)


class PlainURLSafeTimedSerializer(URLSafeTimedSerializer):
    """Signed URL-safe tokens written without itsdangerous' zlib step (it compressed
    every token, a fifth of the cost of signing the form state); tokens written
    compressed by earlier versions (leading ".") still load."""

    def dump_payload(self, obj) -> bytes:
        # The JSON of the plain serializer, past the mixin that would compress it.
        return base64_encode(super(URLSafeSerializerMixin, self).dump_payload(obj))


@lru_cache(maxsize=8)
def signing_serializer(kind: type, secret: str, salt: str):
    """An itsdangerous serializer of *kind*, built once per secret and salt (building
    one on every request cost a JSON round trip each time)."""
    return kind(secret, salt=salt)


def _serializer() -> URLSafeTimedSerializer:
    return signing_serializer(
        PlainURLSafeTimedSerializer, current_app.config["SECRET_KEY"], "survey-form-state"
    )


def dump_state(state: FormState) -> str:
    return _serializer().dumps(
        {
            "c": state.channel_id,
            "s": state.submission_id,
            "t": state.started_at.isoformat(timespec="seconds"),
            "p": state.page,
            "a": state.answers,
        }
    )


def load_state(token: str | None, channel_id: int) -> FormState:
    if not token:
        raise StateError()
    try:
        data = _serializer().loads(token, max_age=current_app.config["FORM_STATE_MAX_AGE"])
    except SignatureExpired as exc:
        raise StateError(expired=True) from exc
    except BadSignature as exc:
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
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError() from exc
