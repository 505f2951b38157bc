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
