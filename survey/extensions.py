"""Extension objects, created here and wired by :func:`init_app`."""

from __future__ import annotations

from flask import Flask
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect

from survey.db import Database

db = Database()
csrf = CSRFProtect()
# Compress HTML/CSS/JS/JSON: residents are often on weak mobile networks.
compress = Compress()


def init_app(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    compress.init_app(app)
