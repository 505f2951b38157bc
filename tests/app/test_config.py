from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey import create_app
from survey.config import ConfigError, from_environ


def test_environment_prefix_is_read(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_ORGANIZER_NAME", "测试局")
    monkeypatch.setenv("SURVEY_MAX_CONTENT_LENGTH", "1234")
    monkeypatch.setenv("OTHER_THING", "ignored")
    found = from_environ()
    assert found["ORGANIZER_NAME"] == "测试局"
    assert found["MAX_CONTENT_LENGTH"] == 1234
    assert "OTHER_THING" not in found


def test_bad_json_value_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SURVEY_MAX_CONTENT_LENGTH", "lots")
    with pytest.raises(ConfigError, match="SURVEY_MAX_CONTENT_LENGTH"):
        from_environ()


@pytest.mark.parametrize("secret", [None, "dev", "short-key"])
def test_production_refuses_weak_or_missing_secret(monkeypatch, secret, tmp_path):
    monkeypatch.setenv("SURVEY_ENV", "production")
    if secret:
        monkeypatch.setenv("SURVEY_SECRET_KEY", secret)
    else:
        monkeypatch.delenv("SURVEY_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SURVEY_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_production_with_real_secret_sets_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("SURVEY_ENV", "production")
    monkeypatch.setenv("SURVEY_SECRET_KEY", "k" * 48)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    app.extensions["survey_db"]["engine"].dispose()


def test_sqlite_database_uses_wal(app):
    from sqlalchemy import text

    from survey.extensions import db

    with app.app_context():
        if not db.is_sqlite:
            pytest.skip("SQLite only")
        mode = db.session.execute(text("PRAGMA journal_mode")).scalar()
        assert mode == "wal"


def test_ensure_sync_remembers_plain_functions_and_still_wraps_coroutines(app, monkeypatch):
    import inspect

    import survey

    asked = []

    def counting(func):
        asked.append(func)
        return inspect.iscoroutinefunction(func)

    monkeypatch.setattr(survey, "iscoroutinefunction", counting)
    monkeypatch.setattr(app, "async_to_sync", lambda func: ("wrapped", func))

    def view():
        return "ok"

    async def async_view():
        return "ok"

    class Hooks:
        def after(self, response):
            return response

    hooks = Hooks()
    assert app.ensure_sync(view) is view
    assert app.ensure_sync(view) is view
    assert app.ensure_sync(hooks.after) == hooks.after  # a new bound method each time
    assert app.ensure_sync(hooks.after) == hooks.after
    assert app.ensure_sync(async_view) == ("wrapped", async_view)
    assert app.ensure_sync(async_view) == ("wrapped", async_view)
    assert app.ensure_sync(len) is len  # a builtin: not cached, still answered
    assert asked.count(view) == 1 and asked.count(async_view) == 1
    assert sum(1 for f in asked if getattr(f, "__func__", None) is Hooks.after) == 1
    with app.test_client() as client:  # real requests still run
        assert client.get("/healthz").status_code == 200


_URLENCODED = "application/x-www-form-urlencoded"


def _form_both_ways(app, body: bytes, content_length=None):
    """The form as SurveyRequest reads it and as Flask's own Request does (or the
    exception each raises)."""
    from flask import Request
    from werkzeug.test import EnvironBuilder

    from survey import SurveyRequest

    results = []
    for cls in (SurveyRequest, Request):
        environ = EnvironBuilder(method="POST", data=body, content_type=_URLENCODED).get_environ()
        if content_length is not None:
            environ["CONTENT_LENGTH"] = str(content_length)
        with app.app_context():
            request = cls(environ)
            try:
                results.append(("form", request.form.to_dict(flat=False), request.stream.read()))
            except Exception as exc:  # noqa: BLE001 - compared below
                results.append(("error", type(exc)))
    return results


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(
    st.binary(max_size=300),
    st.lists(st.tuples(st.text(max_size=12), st.text(max_size=20)), max_size=8).map(
        lambda pairs: urlencode(pairs).encode()
    ),
))  # fmt: skip
def test_urlencoded_form_reads_as_werkzeug_reads_it(app, body):
    ours, werkzeug = _form_both_ways(app, body)
    assert ours == werkzeug


def test_urlencoded_form_limits(app):
    from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

    app.config["MAX_CONTENT_LENGTH"] = 64
    big = b"a=" + b"x" * 100
    assert _form_both_ways(app, big) == [("error", RequestEntityTooLarge)] * 2
    # A body shorter than its Content-Length: the client went away.
    ours, _ = _form_both_ways(app, b"a=1&b=2", content_length=20)
    assert ours[0] == "error" and issubclass(ours[1], BadRequest)
    # Resident form fields, as the app receives them.
    ((_, form, _), _) = _form_both_ways(app, urlencode({"state": "2.x", "名": "咸安区"}).encode())
    assert form == {"state": ["2.x"], "名": ["咸安区"]}


def test_process_local_objects_are_made_afresh_after_a_fork(app, monkeypatch):
    import os

    from survey.operations import process_local

    class Kept:
        def __init__(self):
            self.pid = os.getpid()

    first = process_local.of_this_process(app, "test_kept", Kept)
    assert process_local.of_this_process(app, "test_kept", Kept) is first
    with app.app_context():
        assert process_local.if_made("test_kept") is first
        assert process_local.if_made("test_never_made") is None
        # In a forked worker (another pid) the parent's object is not used.
        monkeypatch.setattr(process_local.os, "getpid", lambda: first.pid + 1)
        assert process_local.if_made("test_kept") is None
        child = process_local.of_this_process(app, "test_kept", lambda: Kept())
    assert child is not first


def test_public_url_is_checked_at_start(monkeypatch, tmp_path):
    """The channels and posters pages print SURVEY_PUBLIC_URL as written: a trailing
    slash gave …//s/<token> on printed QR codes, and a typo went unnoticed."""
    monkeypatch.setenv("SURVEY_PUBLIC_URL", "https://survey.example.cn/")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["PUBLIC_URL"] == "https://survey.example.cn"
    app.extensions["survey_db"]["engine"].dispose()
    for bad in ("survey.example.cn", "https://survey.example.cn/app"):
        monkeypatch.setenv("SURVEY_PUBLIC_URL", bad)
        with pytest.raises(ConfigError, match="SURVEY_PUBLIC_URL"):
            create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/y.db"})
