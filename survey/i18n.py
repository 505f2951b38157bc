"""Internationalisation: Chinese (zh_CN) by default, English as a second locale.

Message ids are the Chinese texts themselves, so Chinese shows even without a
compiled catalogue; translators work from ``translations/messages.pot``.
The resident or staff member picks a language with ``?lang=en``; the choice
sticks for the session.
"""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale

from survey.paths import TRANSLATIONS_DIR

babel = Babel()


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang")
    if wanted in languages:
        session["lang"] = wanted
    chosen = session.get("lang")
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
