"""WSGI entry point for production servers: ``gunicorn`` in this directory (settings in
gunicorn.conf.py)."""

from survey import create_app
from survey.gc_settings import settle_garbage_collector

app = create_app()
settle_garbage_collector()
