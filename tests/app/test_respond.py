"""The resident's path: landing → pages → stored answer with a receipt, exactly once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from survey.extensions import db
from survey.models import ChannelStats, Response
from survey.respond.state import StateError
from tests.conftest import form_tokens
from tests.resident import (
    STANDARD_PAGES,
    channel_token,
    complete,
    receipt_of,
    start,
    submit_page,
)


def _responses(app):
    with app.app_context():
        return list(db.session.scalars(select(Response)))


def _stats(app, token):
    from survey.models import Channel

    with app.app_context():
        channel = db.session.scalar(select(Channel).filter_by(token=token))
        return db.session.get(ChannelStats, channel.id)


def test_landing_page_explains_survey_in_chinese(client, app, demo_wave):
    token = channel_token(app)
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "公众对生态文明建设满意度与参与度调查问卷" in page
    assert "匿名" in page and "分钟" in page and "咸安区" in page
    assert "同意并开始填写" in page
    assert 'lang="zh-CN"' in page


def test_complete_questionnaire_stores_one_response_with_receipt(client, app, demo_wave):
    token = channel_token(app)
    final = complete(client, token)
    assert final.status_code == 303
    thanks = client.get(final.headers["Location"]).get_data(as_text=True)
    code = re.search(r"<strong>([A-Z0-9]{4}-[A-Z0-9]{4})</strong>", thanks).group(1)
    (stored,) = _responses(app)
    assert stored.receipt_code == code
    assert stored.district == "咸安区" and stored.sex == "男" and stored.age_group == "30-39岁"
    assert stored.urban_rural == "城镇"
    assert stored.answers["activities"] == ["sorting", "green_travel"]
    assert stored.answers["years_here"] == 12
    # 5,4,2,3,5,1 valid (dk excluded): 3 of 6 in the top two boxes.
    assert stored.indicators["satisfied"] == 0.5
    assert stored.indicators["participated"] == 1.0
    assert stored.indicators["satisfied.s_drinking"] is None
    assert stored.duration_seconds >= 0
    assert stored.client_hash and "127.0.0.1" not in stored.client_hash
    stats = _stats(app, token)
    assert (stats.visits, stats.starts, stats.completions, stats.receipts) == (1, 1, 1, 1)


def test_double_submit_stores_once_and_shows_same_receipt(client, app, demo_wave):
    token = channel_token(app)
    response = start(client, token)
    for page in STANDARD_PAGES[:-1]:
        response = submit_page(client, token, response.get_data(as_text=True), page)
    last_html = response.get_data(as_text=True)
    first = submit_page(client, token, last_html, STANDARD_PAGES[-1])
    second = submit_page(client, token, last_html, STANDARD_PAGES[-1])  # double tap / retry
    assert first.status_code == second.status_code == 303
    assert receipt_of(first) == receipt_of(second) == _responses(app)[0].receipt_code
    assert len(_responses(app)) == 1


def test_validation_errors_are_shown_next_to_the_question(client, app, demo_wave):
    token = channel_token(app)
    response = start(client, token)
    page = dict(STANDARD_PAGES[0])
    del page["sex"]
    response = submit_page(client, token, response.get_data(as_text=True), page)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-sex"' in html and "请选择一项" in html
    # What was entered is kept.
    assert 'value="30-39岁" checked' in html
    assert _responses(app) == []


def test_screening_ends_politely_and_is_counted(client, app, demo_wave):
    token = channel_token(app)
    response = start(client, token)
    page = {**STANDARD_PAGES[0], "age_group": "under18"}
    response = submit_page(client, token, response.get_data(as_text=True), page)
    assert response.status_code == 200
    assert "18 岁及以上" in response.get_data(as_text=True)
    assert _stats(app, token).screen_outs == 1
    assert _responses(app) == []


def test_tampered_state_gets_restart_page_not_error(client, app, demo_wave):
    token = channel_token(app)
    response = start(client, token)
    tokens = form_tokens(response.get_data(as_text=True))
    tokens["state"] = tokens["state"][:-3] + "abc"
    response = client.post(f"/s/{token}/page", data={**tokens, **STANDARD_PAGES[0]})
    assert response.status_code == 400
    assert "重新开始" in response.get_data(as_text=True)


def test_missing_csrf_token_gets_restart_page(client, app, demo_wave):
    token = channel_token(app)
    response = client.post(f"/s/{token}/start", data={})
    assert response.status_code == 400
    assert "重新开始" in response.get_data(as_text=True)


def test_unknown_option_value_is_rejected(client, app, demo_wave):
    token = channel_token(app)
    response = start(client, token)
    page = {**STANDARD_PAGES[0], "sex": "<script>alert(1)</script>"}
    response = submit_page(client, token, response.get_data(as_text=True), page)
    assert response.status_code == 422
    assert "选项无效" in response.get_data(as_text=True)
    assert "<script>alert(1)" not in response.get_data(as_text=True)


def test_closed_channel_takes_no_new_resident_and_lets_a_started_one_finish(client, app, demo_wave):
    """A closed channel accepts no new start. A resident already in the middle of
    the questionnaire used to get 410 on their next page, their answers lost;
    they may now finish for FINISH_GRACE_SECONDS after the closing."""
    from datetime import timedelta

    from survey.models import Channel
    from survey.operations.cities import set_channel_open

    token = channel_token(app)
    started = start(client, token)
    slow = app.test_client()
    later = start(slow, token)  # started too, but comes back too late
    with app.app_context():
        set_channel_open(db.session.scalar(select(Channel).filter_by(token=token)), False)
    assert "本次调查已结束" in client.get(f"/s/{token}").get_data(as_text=True)
    newcomer = app.test_client()
    assert newcomer.get(f"/s/{token}").status_code == 410
    page = submit_page(client, token, started.get_data(as_text=True), STANDARD_PAGES[0])
    assert page.status_code == 200
    for answers in STANDARD_PAGES[1:]:
        page = submit_page(client, token, page.get_data(as_text=True), answers)
    assert page.status_code == 303  # stored, with its receipt
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1
        channel = db.session.scalar(select(Channel).filter_by(token=token))
        grace = app.config["FINISH_GRACE_SECONDS"]
        db.session.execute(update(Channel).where(Channel.id == channel.id)
                           .values(closed_at=channel.closed_at - timedelta(seconds=grace + 1)))  # fmt: skip
        db.session.commit()
    from survey.operations.channel_cache import forget_channels

    with app.app_context():
        forget_channels()
    late = submit_page(slow, token, later.get_data(as_text=True), STANDARD_PAGES[0])
    assert late.status_code == 410
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1


def test_unknown_channel_is_404_in_chinese(client, demo_wave):
    response = client.get("/s/not-a-real-token")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_large_text_mode_sticks_for_the_session(client, app, demo_wave):
    token = channel_token(app)
    assert 'class="large"' in client.get(f"/s/{token}?large=1").get_data(as_text=True)
    assert 'class="large"' in start(client, token).get_data(as_text=True)
    assert 'class="large"' not in client.get(f"/s/{token}?large=0").get_data(as_text=True)


def test_english_locale_is_available(client, app, demo_wave):
    token = channel_token(app)
    html = client.get(f"/s/{token}?lang=en").get_data(as_text=True)
    assert 'lang="en"' in html and "Agree and start" in html
    # The choice sticks for the session; Chinese stays the default for others.
    assert "Large text" in client.get(f"/s/{token}").get_data(as_text=True)
    assert "同意并开始填写" in app.test_client().get(f"/s/{token}").get_data(as_text=True)


def test_security_headers(client, app, demo_wave):
    response = client.get(f"/s/{channel_token(app)}")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for name in ("X-Frame-Options", "Referrer-Policy", "Permissions-Policy",
                 "Cross-Origin-Opener-Policy"):  # fmt: skip
        assert len(response.headers.getlist(name)) == 1, name


def test_strict_transport_security_over_https_only(client, app, demo_wave):
    secure = client.get(f"/s/{channel_token(app)}", base_url="https://survey.example.cn")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get(f"/s/{channel_token(app)}").headers


def test_security_headers_leave_a_views_own_header_alone(app):
    from flask import Response

    from survey.security import _headers

    with app.test_request_context(base_url="https://survey.example.cn"):  # as after a request
        response = _headers(Response("x", headers={"x-frame-options": "SAMEORIGIN",
                                                   "Strict-Transport-Security": "max-age=60"}))  # fmt: skip
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Strict-Transport-Security") == ["max-age=60"]
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_vary_header_as_flask_writes_it(app, demo_wave):
    from flask import Response
    from flask.sessions import SecureCookieSession

    def vary(response):
        return [part.strip() for part in response.headers.get("Vary", "").split(",") if part]

    token = channel_token(app)
    client = app.test_client()
    # A resident's page reads the (empty) session: Vary: Cookie, no session cookie,
    # and the Vary that Flask-Compress set is kept.
    response = client.get(f"/s/{token}", headers={"Accept-Encoding": "gzip"})
    assert vary(response) == ["Accept-Encoding", "Cookie"]
    assert "session=" not in " ".join(response.headers.getlist("Set-Cookie"))
    # A session with something in it is still written by Flask itself.
    chosen = client.get(f"/s/{token}?lang=en")
    assert "session=" in " ".join(chosen.headers.getlist("Set-Cookie"))
    assert vary(chosen).count("Cookie") == 1
    # The short way, on its own: Vary added once, only when the session was read.
    interface = app.session_interface
    for before, after in (
        (None, ["Cookie"]),
        ("Cookie", ["Cookie"]),
        ("Origin", ["Origin", "Cookie"]),
    ):
        read = SecureCookieSession()
        read.accessed = True  # as the flask.session proxy marks it when read
        response = Response("x", headers={"Vary": before} if before else {})
        interface.save_session(app, read, response)
        assert vary(response) == after
    untouched = Response("x")
    interface.save_session(app, SecureCookieSession(), untouched)
    assert "Vary" not in untouched.headers and "Set-Cookie" not in untouched.headers


def test_form_state_token_format_by_hand_and_earlier_itsdangerous_tokens(app, demo_wave):
    import base64
    import hashlib
    import hmac
    import json
    import time

    from itsdangerous import URLSafeTimedSerializer

    from survey.respond.state import FormState, dump_state, load_state

    state = FormState(channel_id=7, page=1, answers={"district": "咸安区", "note": "y" * 200})
    old_data = {"c": 7, "s": "a" * 32, "t": "2026-11-30T08:00:00", "p": 1, "a": {"x": "y" * 200}}
    key = hmac.new(app.config["SECRET_KEY"].encode(), b"survey-form-state-v2", hashlib.sha256)

    def by_hand(data, made, secret_key=None):
        """A token written from the format in state.py's docstring, not by its code."""
        text = json.dumps(data).encode()
        signed = f"2.{base64.urlsafe_b64encode(text).decode().rstrip('=')}.{made:x}"
        mac = hmac.new(secret_key or key.digest(), signed.encode(), hashlib.sha256).digest()[:24]
        return f"{signed}.{base64.urlsafe_b64encode(mac).decode()}"

    with app.test_request_context():
        token = dump_state(state)
        assert token.startswith("2.") and len(token.split(".")) == 4
        assert load_state(token, 7).answers == state.answers
        now = int(time.time())
        assert load_state(by_hand(old_data, now), 7).answers == old_data["a"]
        # Expired, from too far in the future, signed with another key, altered.
        max_age = app.config["FORM_STATE_MAX_AGE"]
        with pytest.raises(StateError) as expired:
            load_state(by_hand(old_data, now - max_age - 5), 7)
        assert expired.value.expired
        for bad in (
            by_hand(old_data, now + 600),
            by_hand(old_data, now, secret_key=b"another key"),
            token.replace(token.split(".")[1][:4], "AAAA", 1),
            token[:-1] + ("A" if token[-1] != "A" else "B"),
            by_hand({**old_data, "c": 8}, now),  # another channel's state
            "2.", "2.e30.zz.AAAA", "2.e30.1.2.3", "2.咸安.1." + "A" * 32,
        ):  # fmt: skip
            with pytest.raises(StateError) as refused:
                load_state(bad, 7)
            assert not refused.value.expired, bad
        # Pages rendered before this format carry itsdangerous tokens: compressed
        # (before stop 10) or plain; they load until they expire.
        old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="survey-form-state")
        compressed = old.dumps(old_data)
        assert compressed.startswith(".")
        assert load_state(compressed, 7).answers == {"x": "y" * 200}
        plain = old.dumps({"c": 7, "s": "b1", "t": "2026-11-30T08:00:00", "p": 1, "a": {"x": "y"}})
        assert plain.startswith("eyJ")
        assert load_state(plain, 7).answers == {"x": "y"}
        other = URLSafeTimedSerializer("another-secret", salt="survey-form-state").dumps({"c": 7})
        with pytest.raises(StateError):
            load_state(other, 7)


def test_receipt_codes_use_the_whole_alphabet_in_every_place():
    import re

    from survey.operations.responses import RECEIPT_ALPHABET, new_receipt_code

    codes = [new_receipt_code() for _ in range(3000)]
    assert all(
        re.fullmatch(f"[{RECEIPT_ALPHABET}]{{4}}-[{RECEIPT_ALPHABET}]{{4}}", c) for c in codes
    )
    assert len(set(codes)) == len(codes)
    for place in (0, 1, 2, 3, 5, 6, 7, 8):  # every character turns up in every place
        assert {c[place] for c in codes} == set(RECEIPT_ALPHABET), place


def test_old_thanks_addresses_load_only_codes_the_site_signed(client, app, demo_wave):
    """Addresses given before the receipt moved to a cookie carry the code, signed:
    a changed code or signature is a 404; a genuine one (also as itsdangerous
    signed it, before that) gives the cookie and leads on to the thank-you page."""
    from itsdangerous import URLSafeSerializer

    from survey.models import Channel
    from survey.respond import receipts

    token = channel_token(app)
    assert complete(client, token).status_code == 303
    (stored,) = _responses(app)
    code = stored.receipt_code
    with app.test_request_context():
        channel_id = db.session.scalar(select(Channel.id).filter_by(token=token))
        signed = receipts.sign(code, channel_id)
    mac = signed.partition(".")[2]
    base = f"/s/{token}/thanks/"
    other = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"
    for forged in (f"{other}.{mac}", f"{code}.{mac[:-1]}A" if mac[-1] != "A" else f"{code}.{mac[:-1]}B",
                   code, f"{code}.", "<script>alert(1)</script>", f"{code.lower()}.{mac}"):  # fmt: skip
        fresh = app.test_client()
        assert fresh.get(base + forged).status_code == 404, forged
        assert fresh.get_cookie(receipts.COOKIE, path=f"/s/{token}") is None
    old = URLSafeSerializer(app.config["SECRET_KEY"], salt="survey-receipt").dumps(code)
    for link in (signed, old):
        fresh = app.test_client()
        moved = fresh.get(base + link)
        assert moved.status_code == 303 and moved.headers["Location"] == f"/s/{token}/thanks"
        assert receipt_of(moved) == code
        page = fresh.get(moved.headers["Location"])
        assert page.status_code == 200 and code in page.get_data(as_text=True)
    wrong_key = URLSafeSerializer("another secret", salt="survey-receipt").dumps(code)
    assert client.get(base + wrong_key).status_code == 404


def test_pages_with_an_error_status_are_compressed_too(client, app, demo_wave):
    """Flask-Compress leaves non-2xx responses alone; the page a resident sees
    after missing a question (422) goes out as compressed as any other."""
    import gzip

    token = channel_token(app)
    first = start(client, token)
    data = form_tokens(first.get_data(as_text=True))
    plain = client.post(f"/s/{token}/page", data=data)
    packed = client.post(f"/s/{token}/page", data=data, headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 422
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    body = gzip.decompress(packed.get_data())
    assert body == plain.get_data() and "请选择一项".encode() in body
    assert int(packed.headers["Content-Length"]) == len(packed.get_data()) < len(body) / 2
    # Any page with an error status: an unknown channel (404).
    missing = client.get("/s/no-such-channel-token", headers={"Accept-Encoding": "gzip"})
    assert missing.status_code == 404 and missing.headers["Content-Encoding"] == "gzip"
    assert "二维码".encode() in gzip.decompress(missing.get_data())


def _without_token(html: bytes) -> bytes:
    return re.sub(rb'name="csrf_token" value="[^"]*"', b"", html)


def test_zstd_pages_come_from_a_kept_compressor_as_the_same_bytes(
    client, app, demo_wave, monkeypatch
):
    """Phones ask for zstd first. Each thread keeps its compressor (one made per
    response cost more than compressing a page); the frames are the bytes a new
    compressor gives, with the page's size in their header."""
    from flask_compress.compat import compression

    from survey import extensions

    monkeypatch.setattr(extensions, "_zstd", extensions._ThreadZstd())  # none made yet
    token = channel_token(app)
    chrome = {"Accept-Encoding": "gzip, deflate, br, zstd"}
    pages, compressors = [], []
    for _ in range(3):
        pages.append(client.get(f"/s/{token}", headers=chrome))
        compressors.append(extensions._zstd.compressor)
    plain = client.get(f"/s/{token}").get_data()
    for page in pages:
        assert page.headers["Content-Encoding"] == "zstd"
        frame = page.get_data()
        html = compression.zstd.decompress(frame)
        assert _without_token(html) == _without_token(plain) and "开始".encode() in html
        assert frame == compression.zstd.compress(html, app.config["COMPRESS_ZSTD_LEVEL"])
        assert compression.zstd.get_frame_info(frame).decompressed_size == len(html)
    assert compressors[0] is not None  # one compressor for this thread's three pages
    assert compressors[1] is compressors[0] and compressors[2] is compressors[0]
    gzipped = client.get(f"/s/{token}", headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["Content-Encoding"] == "gzip"  # other encodings as before


def _main_text(html: str) -> str:
    main = re.search(r"<main[^>]*>(.*)</main>", html, re.S).group(1)
    return re.sub(r"<[^>]+>", "", main)


def test_the_landing_page_says_each_thing_once(client, app, demo_wave, monkeypatch):
    """The standard questionnaire's intro names the organizer, says 匿名 and gives
    the time (3–5 分钟), and the page's list said all three again (大约需要 4
    分钟): each once now. A questionnaire whose intro says none of them gets
    the list, the time from its own minutes (the posters' figure)."""
    import dataclasses

    from survey.operations.demo import ORGANIZER
    from survey.respond import controllers

    token = channel_token(app)
    text = _main_text(client.get(f"/s/{token}").get_data(as_text=True))
    consent = "同意我们以匿名方式使用您的回答"
    assert text.replace(consent, "").count("匿名") == 1
    assert text.count("分钟") == 1 and text.count(ORGANIZER) == 1
    standard = controllers.questionnaire_of

    def brief(version):
        return dataclasses.replace(standard(version), intro="您好！")

    monkeypatch.setattr(controllers, "questionnaire_of", brief)
    text = _main_text(app.test_client().get(f"/s/{token}").get_data(as_text=True))
    assert f"调查单位：{ORGANIZER}" in text and "匿名填写，不收集姓名" in text
    assert "大约需要 4 分钟" in text
