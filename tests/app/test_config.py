import pytest

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
