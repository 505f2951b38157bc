"""Internationalisation: Chinese (zh_CN) by default, English as a second locale.

Message ids are the Chinese texts themselves, so Chinese shows even without a
compiled catalogue; translators work from ``translations/messages.pot``.
The resident or staff member picks a language with ``?lang=en``; the choice
sticks for the session.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale
from flask import Flask, current_app, g, request, session
from flask_babel import Babel, get_locale, get_translations

from survey.paths import TRANSLATIONS_DIR

babel = Babel()


@lru_cache(maxsize=16)
def _locale(name: str) -> Locale:
    """Parsed once per process: babel's Locale.parse walks its whole locale list
    (about an eighth of a resident's request went there)."""
    return Locale.parse(name)


def select_locale() -> Locale:
    # The objects, not their proxies (see survey.respond.paradata.device_cookie).
    config = current_app._get_current_object().config
    languages = config["LANGUAGES"]
    req = request._get_current_object()
    # Most requests carry no ?lang=: do not parse the query string for them.
    wanted = req.args.get("lang") if b"lang" in req.query_string else None
    if wanted in languages:
        session["lang"] = wanted
    chosen = session._get_current_object().get("lang")
    return _locale(chosen if chosen in languages else config["BABEL_DEFAULT_LOCALE"])


def _translations():
    """The request's translations, looked up once per request (Flask-Babel's own
    template callables resolve the locale again for every string: a tenth of a
    resident's request went there)."""
    translations = g.get("_survey_translations")
    if translations is None:
        translations = g._survey_translations = get_translations()
    return translations


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
