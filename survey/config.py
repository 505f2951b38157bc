"""Configuration: defaults, then environment variables prefixed ``SURVEY_``.

Settings are read when the app is created (never at import time).  Production
mode (``SURVEY_ENV=production``) refuses to start without a real secret key.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

PREFIX = "SURVEY_"

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "DATABASE_URL": None,  # default: sqlite file in the instance folder
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ["zh_CN", "en"],
    # A resident may take a while: keep the CSRF token valid for 6 hours.
    "WTF_CSRF_TIME_LIMIT": 6 * 3600,
    # Signed questionnaire state (earlier pages' answers) expires after a day.
    "FORM_STATE_MAX_AGE": 24 * 3600,
    # A resident who started before their collection point closed, or before the
    # fieldwork's end date ran out, may still finish for this long.
    "FINISH_GRACE_SECONDS": 3600,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # A staff member's file upload (population frame, CSV or .xlsx).
    "MAX_UPLOAD_LENGTH": 4 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    # Seconds a signed session cookie is accepted after it was last written (Flask's
    # default, 31 days, let a staff cookie copied from a computer left logged in
    # open the answers for a month; staff at work write it again with each form).
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "PUBLIC_URL": None,  # base URL printed on QR codes, e.g. https://survey.example.cn
    # Proxies in front of the app (nginx, a load balancer: HTTPS ends there) that add
    # X-Forwarded-For and X-Forwarded-Proto. Behind one, set 1: otherwise every
    # resident has the proxy's address, and the per-client rate limits refuse them
    # all together. 0 (no proxy) trusts no such header: a client could forge it.
    "PROXY_COUNT": 0,
    "QR_OUTPUT_DIR": None,  # default: <instance>/qrcodes
    # Rate limits: [requests, window seconds]; 0 requests switches a limit off.
    "RATE_LIMITS": {
        "start_client": [60, 3600],
        "submit_client": [20, 3600],
        "submit_channel": [1200, 60],
        "withdraw_client": [10, 3600],
        "login_client": [30, 600],
    },
    # Funnel counters of the resident's path (visits, starts, receipts ...) are
    # added up in each process and written at most this many seconds later, in
    # one transaction (0: write each at once). Completions are never deferred:
    # they are written with the response.
    "COUNTER_FLUSH_SECONDS": 1.0,
    # Rate-limit counts are kept in each process and added to the shared counters
    # at most this many seconds later, in one transaction (0: each request is
    # counted in the database at once). See survey/operations/abuse.py.
    "RATE_LIMIT_SYNC_SECONDS": 1.0,
    # Submissions are stored by one writer thread per process, many in one
    # transaction (group commit); False stores each in its request's thread.
    "SUBMIT_WRITER": True,
    # A request waits this long for the writer, then answers 503 (retry is safe).
    "SUBMIT_WAIT_SECONDS": 60,
    # Responses completed faster than this are flagged for review (not dropped).
    "MIN_DURATION_SECONDS": 20,
    # Flag responses faster than this share of the wave's median duration.
    "QUALITY_TOO_FAST_SHARE": 0.4,
    # Paradata (client and device hashes) is erased after this many days by
    # `survey purge-paradata` (run it daily, e.g. from cron); the device class is kept.
    "PARADATA_RETENTION_DAYS": 180,
    # Log-in attempts per account name from one client, and from all clients,
    # in each window of LOGIN_LOCK_SECONDS (survey/operations/users.attempt_login).
    "LOGIN_MAX_ATTEMPTS": 10,
    "LOGIN_ACCOUNT_MAX_ATTEMPTS": 100,
    "LOGIN_LOCK_SECONDS": 15 * 60,
    # Streamed responses (exports) are not compressed: bounded memory, and
    # Flask-Compress does not close the wrapped iterable.
    "COMPRESS_STREAMS": False,
    "SEND_FILE_MAX_AGE_DEFAULT": 3600,
}

# Keys whose environment value is JSON (numbers, booleans, lists).
_JSON_KEYS = {
    "PROXY_COUNT",
    "WTF_CSRF_TIME_LIMIT",
    "FORM_STATE_MAX_AGE",
    "FINISH_GRACE_SECONDS",
    "MAX_CONTENT_LENGTH",
    "MAX_UPLOAD_LENGTH",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SECURE",
    "PERMANENT_SESSION_LIFETIME",
    "LANGUAGES",
    "LOGIN_MAX_ATTEMPTS",
    "LOGIN_ACCOUNT_MAX_ATTEMPTS",
    "LOGIN_LOCK_SECONDS",
    "RATE_LIMITS",
    "MIN_DURATION_SECONDS",
    "COUNTER_FLUSH_SECONDS",
    "RATE_LIMIT_SYNC_SECONDS",
    "SUBMIT_WRITER",
    "SUBMIT_WAIT_SECONDS",
    "QUALITY_TOO_FAST_SHARE",
    "PARADATA_RETENTION_DAYS",
    "TESTING",
    "WTF_CSRF_ENABLED",
}

WEAK_SECRETS = {"", "dev", "change-me", "changeme", "secret", "please-change"}


class ConfigError(RuntimeError):
    """The configuration cannot be used (e.g. no secret key in production)."""


def from_environ(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the ``SURVEY_*`` settings found in *environ*, prefix removed."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :]
        if name in _JSON_KEYS:
            try:
                found[name] = json.loads(value)
            except ValueError as exc:
                raise ConfigError(f"环境变量 {key} 的值无效（应为 JSON）：{value!r}") from exc
        else:
            found[name] = value
    return found


def configure(app, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from defaults, the environment and *test_config*."""
    app.config.update(DEFAULTS)
    app.config.update(from_environ())
    if test_config:
        app.config.update(test_config)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'survey.sqlite3'}"
    if not app.config.get("QR_OUTPUT_DIR"):
        app.config["QR_OUTPUT_DIR"] = str(instance / "qrcodes")

    if app.config.get("PUBLIC_URL"):  # printed on posters: checked before anyone uses it
        from survey.qrcodes import PublicUrlError, public_base_url

        try:
            app.config["PUBLIC_URL"] = public_base_url(app.config["PUBLIC_URL"])
        except PublicUrlError as exc:
            raise ConfigError(f"SURVEY_PUBLIC_URL：{exc}") from exc

    production = app.config["ENV"] == "production"
    secret = app.config.get("SECRET_KEY") or ""
    if production:
        if secret in WEAK_SECRETS or len(secret) < 32:
            raise ConfigError(
                "生产模式需要设置足够长的随机密钥：请设置环境变量 SURVEY_SECRET_KEY"
                "（至少 32 个字符），"
                "例如 python -c 'import secrets; print(secrets.token_hex(32))' 的输出。"
            )
        app.config["SESSION_COOKIE_SECURE"] = True
    elif not secret:
        # Development only: a per-instance random key kept in the instance folder,
        # so that sessions survive restarts and several local workers agree.
        key_file = instance / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
        app.config["SECRET_KEY"] = key_file.read_text().strip()
