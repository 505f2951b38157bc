"""Errors raised by operations; messages are Chinese and say what to do."""

from __future__ import annotations


class OperationError(Exception):
    """A request that cannot be carried out; nothing was changed.

    ``fields`` maps the form fields at fault to their messages, when the error
    is a field's (a form shows each message beside its field, tied to it by
    ``aria-invalid`` and ``aria-describedby``); *field* names a single one."""

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message)
        self.fields: dict[str, str] = {field: message} if field else {}


class FieldErrors(OperationError):
    """Several fields of a form are wrong: every one is said at once."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("\n".join(fields.values()))
        self.fields = dict(fields)
