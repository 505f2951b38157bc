"""Filesystem locations of the project's data (templates, questionnaires, demo data)."""

from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT_DIR / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DEMO_DIR = Path(__file__).resolve().parent / "demo"
