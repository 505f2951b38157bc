"""Views of the resident's path: parse the request, call operations, render.

Flow: landing (GET) → start (POST, consent) → one POST per questionnaire page
→ submit → redirect to the thank-you page, the receipt code in a cookie
(never in an address: addresses stay in the phone's history).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

from flask import (
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date

from questionnaires.engine import parse_answers, screen_out_reason
from survey.models import Channel, utcnow
from survey.operations import abuse, quota_gate
from survey.operations.channel_cache import channel_by_token, city_districts
from survey.operations.questionnaires import questionnaire_of
from survey.operations.responses import (
    Submission,
    count_event,
    find_by_submission,
    normal_receipt_code,
    submit_response,
    withdraw_response,
)
from survey.respond import ended, receipts
from survey.respond.csrf import device_id
from survey.respond.fieldwork import ENDED, NOT_YET, fieldwork_state, may_finish
from survey.respond.page_cache import render_page
from survey.respond.pages import page_context, shown_questions
from survey.respond.paradata import (
    client_hash,
    device_class,
    device_cookie,
    device_hash,
    set_device_cookie,
)
from survey.respond.state import (
    FormState,
    StateError,
    dump_state,
    load_state,
)
from survey.respond.visits import is_new_visit


def _channel(token: str) -> Channel:
    channel = channel_by_token(token)
    if channel is None:
        abort(404)
    return channel


def _closed(channel: Channel, ended_on=None):
    """本次调查已结束 (410): a closed channel, or a wave after its end date."""
    day = format_date(ended_on, "long") if ended_on else None
    html = render_template("respond/closed.html", channel=channel, ended_on=day)
    return forgetting_pages((html, 410))


def _unavailable(channel: Channel, status_before: int = 403):
    """The answer when *channel* takes no questionnaire today, or None when it does:
    closed or past the wave's end date (410), before its start date (the date it
    opens; *status_before*). Checked on every request, before any kept page."""
    if not channel.is_open:
        return _closed(channel)
    state, day = fieldwork_state(channel.wave)
    if state == ENDED:
        return _closed(channel, day)
    if state == NOT_YET:
        opens_on = format_date(day, "long")
        html = render_template("respond/not_yet.html", channel=channel, opens_on=opens_on)
        return html, status_before
    return None


def _districts(channel: Channel) -> list[str]:
    return list(city_districts(channel.wave.city_id))


#: The form field of the text-size button on questionnaire pages ("large" or "standard").
TEXT_SIZE_FIELD = "text_size"


def remember_large_text() -> None:
    """适老模式: ``?large=1`` switches large text on for the session, ``?large=0`` off.

    Pages reached by a link toggle it with such a link. Questionnaire pages are
    answers to a POST, which a link cannot repeat: there the toggle is a button
    of the questionnaire's form (``TEXT_SIZE_FIELD``, handled in :func:`page`)."""
    if b"large" in request.query_string and "large" in request.args:
        session["large"] = request.args.get("large") == "1"


def reopened(token: str):
    """A GET of an address the questionnaire only posts to (a copied link, the
    history, a tab the phone restored): on to the channel's landing page, where
    the resident can start (their answers are still in the phone's storage)."""
    _channel(token)  # an unknown channel: 404
    return redirect(url_for("respond.landing", token=token), code=303)


def landing(token: str):
    channel = _channel(token)
    refused = _unavailable(channel, status_before=200)
    if refused is not None:
        return refused
    # A reload, or a script's views beyond an address's allowance, is no new visit.
    # The device id: the cookie, or the one this page gives (a first visit has none).
    if is_new_visit(current_app, channel.id, device_id(), request.remote_addr or ""):
        count_event(channel.id, "visits")
    q = questionnaire_of(channel.wave.questionnaire)
    # Its CSRF token gives a first visit its device id (cookie set after the request).
    html = render_page("respond/landing.html", (), channel=channel, q=q)
    if receipts.COOKIE in request.cookies:
        # A new questionnaire may begin on this phone: a shared phone's next person
        # cannot open the previous person's thank-you page from the history with its code.
        html = make_response(html)
        receipts.forget_cookie(html, token)
    return html


#: Cache-Control of a questionnaire page (the answer to 开始 or 下一页/上一页): the
#: phone keeps it, for its own Back button only. Without it (no-store), Back
#: showed Chrome's "Confirm Form Resubmission" (ERR_CACHE_MISS) instead of the
#: page before. ``private``: no proxy may keep it; ``no-cache``: never reused for
#: a new request, only shown again by history navigation.
KEPT_FOR_BACK = "private, no-cache"


def kept_for_back(response):
    """*response* (a questionnaire page) may stay in the phone's cache for Back."""
    response = make_response(response)
    response.headers["Cache-Control"] = KEPT_FOR_BACK
    response.vary_on_cookie = False  # see survey.security.SessionInterface
    return response


def forgetting_pages(response):
    """*response* ends the questionnaire (the receipt, a screen-out, a full quota,
    a closed channel, a form that must be started again): the browser drops the
    pages it kept for Back (``Clear-Site-Data``), as app.js
    drops the answers kept in local storage, so that a shared phone's next person
    cannot page back through them."""
    response = make_response(response)
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


def after_resident_request(response):
    """After each resident request: set the device cookie made during it, if any
    (its form's CSRF token is bound to it), and keep the page out of every cache
    unless it says otherwise (questionnaire pages, ``kept_for_back``): it carries
    the visitor's own tokens, answers or receipt code (a carrier's proxy must not
    keep them, nor the phone once the questionnaire ends)."""
    if "survey_new_device" in g:
        set_device_cookie(response, g.survey_new_device)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _limit(name: str) -> tuple[int, int]:
    """Rate limit *name*'s (limit, window in seconds); (0, …): no limit."""
    return current_app._get_current_object().config["RATE_LIMITS"].get(name, (0, 60))


def _limited(name: str, subject: str) -> bool:
    """True when the rate limit *name* is exceeded for *subject*."""
    limit, window = _limit(name)
    return not abuse.hit(f"{name}:{subject}", limit, window)


def _allows(name: str, subject: str) -> bool:
    """Whether one more of rate limit *name* is within it for *subject*, counting nothing."""
    limit, window = _limit(name)
    return abuse.allows(f"{name}:{subject}", limit, window)


def _count(name: str, subject: str) -> None:
    """Count one of rate limit *name* for *subject* (checked before with :func:`_allows`)."""
    limit, window = _limit(name)
    abuse.hit(f"{name}:{subject}", limit, window)


def _too_many(name: str):
    """The refusal of rate limit *name*: 429, saying what was refused and roughly
    how long to wait (until its window ends)."""
    seconds = abuse.seconds_left(_limit(name)[1])
    html = render_template("respond/too_many.html", minutes=math.ceil(seconds / 60),
                           withdrawing=name == "withdraw_client",
                           submitting=name == "submit_channel")  # fmt: skip
    return html, 429, {"Retry-After": str(seconds)}


def start(token: str):
    channel = _channel(token)
    refused = _unavailable(channel)
    if refused is not None:
        return refused
    if _limited("start_client", client_hash()):
        return _too_many("start_client")
    count_event(channel.id, "starts")
    response = _render_page(channel, FormState(channel_id=channel.id), values={}, errors={})
    receipts.forget_cookie(response, token)  # a landing page shown from the cache did not
    return response


def _render_page(channel: Channel, state: FormState, values: dict, errors: dict, status=200,
                 stale: bool = False):  # fmt: skip
    q = questionnaire_of(channel.wave.questionnaire)
    districts = _districts(channel)
    shown = shown_questions(q, state)
    token = dump_state(state)

    def context() -> dict:
        return page_context(q, state, values, errors, districts, channel.district.name, shown)

    if stale or errors or any(question.id in values for question, _ in shown):  # their own
        html = render_template("respond/page.html", channel=channel, q=q, state_token=token,
                               stale=stale, **context())  # fmt: skip
    else:  # the same for everyone with these questions shown: kept (page_cache)
        key = (state.page, tuple(question.id for question, _ in shown), tuple(districts))
        html = render_page("respond/page.html", key, channel=channel, q=q, state_token=token,
                           context=context)  # fmt: skip
    return kept_for_back((html, status))


def page(token: str):
    channel = _channel(token)
    refused = _unavailable(channel)
    form = request.form  # once through the proxy (see survey.respond.paradata.device_cookie)
    try:
        state = load_state(form.get("state"), channel.id)
    except StateError as exc:
        if refused is not None:
            return refused
        html = render_template("respond/restart.html", channel=channel, expired=exc.expired)
        return forgetting_pages((html, 400))
    # A resident who started before the channel closed or fieldwork ended may
    # finish for a while: what they had answered is not thrown away.
    closed = refused is not None and not may_finish(
        channel, state.started_at, current_app.config["FINISH_GRACE_SECONDS"]
    )
    q = questionnaire_of(channel.wave.questionnaire)
    if not 0 <= state.page < len(q.pages):
        if closed:
            return refused
        html = render_template("respond/restart.html", channel=channel, expired=False)
        return forgetting_pages((html, 400))
    # A page of a questionnaire submitted on this phone, sent again from the history
    # (survey/respond/ended.py): not its answers again. Its last page sent on is
    # answered below as before (a double tap: the receipt), unless it has errors.
    was_submitted = ended.has_ended(state.submission_id)
    if was_submitted and not _sends_last_page(q, state):
        return _submitted_before(channel)
    current = q.pages[state.page]
    earlier = {k: v for k, v in state.answers.items() if q.question(k).page_id != current.id}
    if closed:  # a retry of a last page stored before the closing still gets its receipt
        return _receipt_if_stored(token, q, state, channel, earlier) or refused

    if g.get("stale_form"):
        # Sent after a long pause (survey/respond/csrf.py): the same page again with
        # what it holds and a fresh token, neither checked nor stored. Not for a
        # questionnaire submitted since: its answers are not shown again.
        if was_submitted:
            return _submitted_before(channel)
        entered = {k: v for k, v in _raw_values(q, current.id).items() if v}
        return _render_page(channel, state, values={**earlier, **entered}, errors={},
                            stale=True)  # fmt: skip
    if TEXT_SIZE_FIELD in form:
        # The text-size button: the same page again in the other size, with what
        # the resident has entered on it so far, neither checked nor stored.
        session["large"] = form[TEXT_SIZE_FIELD] == "large"
        entered = {k: v for k, v in _raw_values(q, current.id).items() if v}
        return _render_page(channel, state, values={**earlier, **entered}, errors={})

    # What was kept of this page when the resident last left it backwards is
    # superseded by what the form holds now.
    state.drafts = {k: v for k, v in state.drafts.items() if q.question(k).page_id != current.id}
    if "back" in form and state.page > 0:
        # 上一页 keeps what is entered on this page, unchecked, in the signed state:
        # it is shown again when the resident comes back here (checked only then).
        state.drafts.update(_draft(state, _raw_values(q, current.id)))
        state.page -= 1
        return _render_page(channel, state, values=_shown_values(state), errors={})

    answers, errors = _parse_page(q, state, channel, earlier)
    if errors and was_submitted:
        return _submitted_before(channel)
    if errors:
        values = {**earlier, **_raw_values(q, current.id)}
        return _render_page(channel, state, values=values, errors=errors, status=422)
    state.answers = {**earlier, **answers}

    reason = screen_out_reason(q, state.answers)
    if reason:
        count_event(channel.id, "screen_outs")
        html = render_template("respond/screened_out.html", channel=channel, message=reason)
        return forgetting_pages(html)

    cells = quota_gate.cells_of(q, state.answers)
    if quota_gate.is_full_before_submit(channel, cells):
        # The retry of the submission that took the cell's last place (a lost
        # connection, a double tap without JavaScript) gets its receipt, not 名额已满.
        if (receipt := _stored_retry(token, q, state, channel)) is not None:
            return receipt
        count_event(channel.id, "quota_full")
        return _quota_full(channel, cells)

    if state.page + 1 < len(q.pages):
        state.page += 1
        return _render_page(channel, state, values=_shown_values(state), errors={})

    client = client_hash()
    # The submit limits count stored responses, not requests: a replayed last page
    # (a double tap, a retry, or the same body posted again and again) stores
    # nothing and counts nothing, so it cannot use up a channel's budget. They are
    # checked here without counting and counted once the response is created.
    if not _allows("submit_channel", str(channel.id)):
        return _stored_retry(token, q, state, channel) or _too_many("submit_channel")
    flags = []
    # A field people cannot see: bots fill it. Flag for review, never drop silently.
    if form.get("website", "").strip():
        flags.append("honeypot")
    # Many questionnaires from one address are as often a community's Wi-Fi or a
    # carrier's shared address as abuse: one finished is stored and flagged for
    # review, never refused after the resident answered everything.
    if not _allows("submit_client", client):
        flags.append("many_from_client")
    result = submit_response(
        Submission(
            submission_id=state.submission_id,
            channel=channel,
            questionnaire=q,
            questionnaire_version_id=channel.wave.questionnaire_id,
            answers=state.answers,
            cells=cells,
            started_at=state.started_at,
            device_class=device_class(request.headers.get("User-Agent", "")),
            client_hash=client,
            flags=tuple(flags),
            device_hash=device_hash(),
        ),
        quota_hook=quota_gate.reserve_places,
    )
    if result.quota_full:
        return _quota_full(channel, cells)
    if not result.created:  # this submission id was stored before
        return _stored_retry(token, q, state, channel) or _to_receipt(
            token, result.receipt_code, channel, state.submission_id
        )
    _count("submit_channel", str(channel.id))
    _count("submit_client", client)
    # Receipts given, one per stored response (not thank-you pages shown,
    # which anyone could count up by reloading).
    count_event(channel.id, "receipts")
    return _to_receipt(token, result.receipt_code, channel, state.submission_id)


def _parse_page(q, state: FormState, channel: Channel, earlier: dict):
    """The answers the form gives for the state's page, checked: (answers, errors)."""
    return parse_answers(
        q,
        request.form,
        page_id=q.pages[state.page].id,
        dynamic_options={"districts": _districts(channel)},
        earlier=earlier,
    )


def _quota_full(channel, cells: dict):
    """名额已满, naming the resident's 城乡 too when the plan's cells are by it
    (read here: only a resident turned away pays for it)."""
    html = render_template("respond/quota_full.html", channel=channel,
                           by_urban_rural=quota_gate.cell_by_urban_rural(channel.wave_id, cells))  # fmt: skip
    return forgetting_pages(html)


def _stored_retry(token: str, q, state: FormState, channel: Channel):
    """For a last page sent again whose submission is stored (*state*'s answers
    complete), what :func:`_stored_before` answers; None otherwise. Where the page
    would be refused (a full cell, the channel's limit), the retry of a
    submission stored just before must still find its receipt."""
    if state.page + 1 != len(q.pages):
        return None
    stored = find_by_submission(state.submission_id)
    return None if stored is None else _stored_before(token, stored, state, channel)


def _submitted_before(channel: Channel):
    """这份问卷已经提交过 (409), for a page of a questionnaire submitted on this
    phone: neither its answers nor a receipt."""
    html = render_template("respond/already.html", channel=channel, withdrawn=False,
                           unchanged=True)  # fmt: skip
    return forgetting_pages((html, 409))


def _sends_last_page(q, state: FormState) -> bool:
    """Whether the request submits the questionnaire: its last page, sent on (not
    上一页 nor the text-size button)."""
    return (
        state.page + 1 == len(q.pages)
        and "back" not in request.form
        and TEXT_SIZE_FIELD not in request.form
    )


def _receipt_if_stored(token: str, q, state: FormState, channel: Channel, earlier: dict):
    """:func:`_stored_retry` for a page not yet read (a closed channel): its
    answers are read first; None for 上一页, the text-size button, or errors."""
    if not _sends_last_page(q, state):
        return None
    answers, errors = _parse_page(q, state, channel, earlier)
    if errors:
        return None
    state.answers = {**earlier, **answers}
    return _stored_retry(token, q, state, channel)


def _stored_before(token: str, stored, state: FormState, channel: Channel):
    """The last page sent again for a questionnaire already stored. The same
    answers within the receipt cookie's lifetime after the submission (a double
    tap, a retry after a lost connection: within minutes): its receipt again.
    Other answers (someone went Back after the receipt, on a shared phone the
    next person, and resent the form), the same answers later (the next person
    resending the page from the history unchanged), or a withdrawn response:
    neither the receipt, which would let them withdraw the first person's
    answer, nor a claim that changes were stored."""
    withdrawn = stored.withdrawn_at is not None
    same = not withdrawn and _canonical(stored.answers) == _canonical(state.answers)
    if same and _within_receipt_time(stored.submitted_at):
        return _to_receipt(token, stored.receipt_code, channel, state.submission_id)
    html = render_template("respond/already.html", channel=channel, withdrawn=withdrawn,
                           unchanged=same)  # fmt: skip
    return forgetting_pages((html, 409))


def _within_receipt_time(submitted_at: datetime) -> bool:
    """Whether a submission stored at *submitted_at* (naive UTC) may still show its
    receipt: as long as the receipt cookie given with it lasts."""
    return utcnow() - submitted_at <= timedelta(seconds=receipts.COOKIE_SECONDS)


def _canonical(answers: dict) -> str:
    """Answers as JSON stores them (lists, not tuples; keys sorted)."""
    return json.dumps(answers, sort_keys=True, ensure_ascii=False, default=list)


def _to_receipt(token: str, code: str, channel: Channel, submission_id: str | None = None):
    """303 to the thank-you page, which shows receipt *code* of *channel* from the
    cookie given with it (the address carries no code: it stays in the history).
    With *submission_id*: its questionnaire's pages are refused from now on
    (:mod:`survey.respond.ended`)."""
    thanks_page = url_for("respond.thanks", token=token)
    response = redirect(thanks_page, code=303)
    if submission_id is not None:
        path = thanks_page.rpartition("/")[0]  # /s/<token>, as the receipt cookie's
        ended.mark_ended(response, path, submission_id, receipts.secure())
    # The receipt cookie last: a client that keeps one Set-Cookie per response
    # (wrk's scripts, bench/wrk_resident.lua) sees the receipt.
    receipts.set_cookie(response, thanks_page, code, channel.id)
    return response


#: Longest text and most values per question kept unchecked in the form state.
DRAFT_TEXT_MAX, DRAFT_LIST_MAX = 2000, 50


def _draft(state: FormState, raw: dict) -> dict:
    """The values of a page left with 上一页 worth keeping: those entered, and a
    field emptied where the page had an answer (it stays empty on return)."""
    kept = {}
    for qid, value in raw.items():
        if not value and qid not in state.answers:
            continue
        if isinstance(value, list):
            kept[qid] = [v[:DRAFT_TEXT_MAX] for v in value[:DRAFT_LIST_MAX]]
        else:
            kept[qid] = value[:DRAFT_TEXT_MAX]
    return kept


def _shown_values(state: FormState) -> dict:
    """What a page shows: the checked answers, and over them what was entered on
    a page left backwards (not yet checked)."""
    return {**state.answers, **state.drafts}


def _raw_values(q, page_id: str) -> dict:
    """What the resident entered on this page, to redisplay next to the errors."""
    values = {}
    for question in q.questions:
        if question.page_id != page_id:
            continue
        if question.type == "multiple_choice":
            values[question.id] = request.form.getlist(question.id)
        else:
            values[question.id] = request.form.get(question.id, "")
    return values


def thanks(token: str):
    """The thank-you page: the receipt code from the cookie the submission gave,
    while it lasts; afterwards, or without it, that the questionnaire was
    submitted and that the code is shown only right after submitting. Either way
    the questionnaire has ended on this phone (the pages kept for Back and the
    answers kept in local storage are dropped)."""
    channel = _channel(token)
    code = receipts.code_in_cookie(channel.id)
    # Withdrawn from this phone since (a rare case: read only without a receipt).
    withdrawn = None if code else receipts.withdrawn_in_cookie(channel.id)
    q = questionnaire_of(channel.wave.questionnaire)
    html = render_template("respond/thanks.html", channel=channel, q=q, receipt_code=code,
                           withdrawn_code=withdrawn)  # fmt: skip
    return forgetting_pages(html)


def thanks_link(token: str, receipt: str):
    """An address given before the receipt moved to a cookie, with the signed code
    in it (a bookmark, a redirect in flight during the deploy): the cookie, and
    on to the thank-you page. A forged code or another channel's: 404."""
    channel = _channel(token)
    code = receipts.code_of(receipt, channel.id)
    if code is None:  # forged, or a receipt of another channel
        abort(404)
    return _to_receipt(token, code, channel)


def csrf_error(reason):
    """A tampered or expired form: a clear page that lets the resident start again."""
    token = (request.view_args or {}).get("token")
    # No device cookie at all: cookies are blocked or were cleared. Starting again
    # cannot help until they are allowed, so say that instead of "expired".
    no_cookie = device_cookie() is None
    html = render_template("respond/restart.html", channel=None, token=token, expired=True,
                           no_cookie=no_cookie)  # fmt: skip
    return forgetting_pages((html, 400))


def withdraw():
    """Withdraw an answer with the receipt code (the respondent's right to delete).

    GET: the form (filled in from ``?receipt=`` when that is a signed receipt: the
    link of thank-you pages shown before the code left the addresses). A first
    POST checks the code and asks to confirm (the thank-you page's button posts
    its code so); the POST of the confirm button (``confirm``) erases. Both count
    against the rate limit (each tells whether a code exists). The text-size
    button posts the form too, so that the code entered stays out of the address:
    the same step again in the other size, nothing checked or counted."""
    if request.method in ("GET", "HEAD"):  # a HEAD counted as a withdrawal attempt
        signed = request.args.get("receipt")
        code = (receipts.code_of(signed) if signed else None) or ""
        return render_template("respond/withdraw.html", step="form", code=code)
    # The channel whose thank-you page the resident came from (its button posts it):
    # the confirm step's 不撤回，返回 leads back there, not to an empty form.
    came_from = _thanks_channel(request.form.get("from_channel", ""))
    if TEXT_SIZE_FIELD in request.form:
        session["large"] = request.form[TEXT_SIZE_FIELD] == "large"
        typed = request.form.get("receipt_code", "")[:20]
        step = request.form.get("step")
        # From the confirm step: that step again (it went back to the form, where the
        # resident had to send the code once more). Confirming checks the code.
        if step == "confirm" and receipts.is_code(code := normal_receipt_code(typed)):
            return render_template("respond/withdraw.html", step="confirm", code=code,
                                   came_from=came_from)  # fmt: skip
        # From the done step: that step again (a link to ?large=1 lost what it said),
        # the code as the server signed it there: nothing read, checked or counted.
        if step == "done" and receipts.is_withdrawn_mark(typed, request.form.get("mark", "")):
            return _done_page(typed, already=request.form.get("already") == "1")
        return render_template("respond/withdraw.html", step="form", code=typed)
    if _limited("withdraw_client", client_hash()):
        return _too_many("withdraw_client")
    typed = request.form.get("receipt_code", "")[:20]
    code = normal_receipt_code(typed)
    if not code:
        return render_template("respond/withdraw.html", step="form", code="", missing=True), 422
    if not receipts.is_code(code):  # no code the site gives: say what one looks like
        return render_template("respond/withdraw.html", step="form", code=typed,
                               malformed=True), 422  # fmt: skip
    if "confirm" not in request.form:
        if not receipts.withdrawable(code):
            return _not_withdrawable(typed, code)
        return render_template("respond/withdraw.html", step="confirm", code=code,
                               came_from=came_from)  # fmt: skip
    if not withdraw_response(code):
        return _not_withdrawable(typed, code)
    return _withdrawn(code, receipts.channel_with_token_of(code), _done_page(code))


def _done_page(code: str, already: bool = False) -> str:
    """The withdraw page's last step: receipt *code*'s answer is withdrawn (*already*:
    before this request), with the mark its text-size button posts."""
    return render_template("respond/withdraw.html", step="done", code=code, already=already,
                           mark=receipts.withdrawn_mark(code))  # fmt: skip


def _thanks_channel(token: str) -> str | None:
    """*token* when it names a channel (whose thank-you page a step may lead back
    to), else None: a link is written only to a page that exists."""
    if not token or len(token) > 64:
        return None
    return token if channel_by_token(token) is not None else None


def _not_withdrawable(typed: str, code: str):
    """Receipt *code* (typed as *typed*) has no answer to withdraw: none was given
    (404, the code as typed kept to correct it), or it was withdrawn already. The
    confirm button tapped again (a retry on a weak network whose first answer
    was lost, Back and resend) said 没有找到, in red, of a withdrawal that had
    succeeded: it says that the answer is withdrawn."""
    owner = receipts.channel_with_token_of(code)
    if owner is None:
        return render_template("respond/withdraw.html", step="form", code=typed,
                               not_found=code), 404  # fmt: skip
    return _withdrawn(code, owner, _done_page(code, already=True))


def _withdrawn(code: str, owner: tuple[int, str] | None, html: str):
    """*html*, the page saying receipt *code* of channel *owner* (id, token) is
    withdrawn: the thank-you page of this phone, reloaded or reached with Back
    within the half hour, showed the withdrawn code from its cookie as a live
    receipt; it says so now."""
    done = make_response(html)
    if owner is not None:
        receipts.set_withdrawn(done, owner[1], code, owner[0])
    return done
