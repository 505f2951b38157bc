"""Questionnaires that have ended on this phone, remembered in a cookie.

After the receipt, Back reaches Chromium's "Confirm Form Resubmission" page
(the thank-you page dropped the pages kept for Back), and its reload sends an
earlier page's form again, with the signed state of the questionnaire just
submitted. The server answered it with the next page, whose 上一页 showed the
answers of whoever had submitted (a shared phone's next person), and going on
stored nothing. app.js leaves such a page for the landing page; without
JavaScript the server must know, without reading the database on every page:
the submission's redirect adds a tag of its submission id to this cookie
(the last :data:`KEPT` of them, for as long as a form's state is valid), and a
page of a questionnaire whose tag is in it is refused. The tags name nothing
and let no one do anything: a cookie made up only refuses its own pages.
"""

from __future__ import annotations

import hashlib

from flask import current_app, request

#: The cookie's name; sent to one channel's pages (``/s/<token>``) only.
COOKIE = "sv_ended"

#: How many questionnaires ended on this phone are remembered, per channel: an
#: interviewer's tablet takes a day's respondents on one channel. 24 tags of 10
#: hex digits are a cookie of 263 bytes; a new questionnaire's id matches one of
#: them by chance once in some 4·10¹⁰.
KEPT = 24


def _tag(submission_id: str) -> str:
    return hashlib.sha256(submission_id.encode()).hexdigest()[:10]


def _tags() -> list[str]:
    return [tag for tag in request.cookies.get(COOKIE, "").split(".") if tag][-KEPT:]


def has_ended(submission_id: str) -> bool:
    """Whether the questionnaire of *submission_id* has been submitted on this phone."""
    return _tag(submission_id) in _tags()


def mark_ended(response, path: str, submission_id: str, secure: bool) -> None:
    """Remember on *response* that *submission_id* was submitted (channel pages under *path*)."""
    tag = _tag(submission_id)
    tags = [t for t in _tags() if t != tag][-(KEPT - 1) :] + [tag]
    response.set_cookie(COOKIE, ".".join(tags), max_age=current_app.config["FORM_STATE_MAX_AGE"],
                        path=path, httponly=True, samesite="Lax", secure=secure)  # fmt: skip
