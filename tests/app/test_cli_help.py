"""The ``survey`` console script's help: this app's commands, nothing of Flask's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from click.testing import CliRunner

from survey.manage import main

ROOT = Path(__file__).resolve().parents[2]


def _help(tmp_path, *args) -> str:
    env = {"SURVEY_DATABASE_URL": f"sqlite:///{tmp_path / 'help.db'}",
           "SURVEY_SECRET_KEY": "k" * 40, "SURVEY_QR_OUTPUT_DIR": str(tmp_path / "qr")}  # fmt: skip
    result = CliRunner().invoke(main, [*args, "--help"], env=env, prog_name="survey")
    assert result.exit_code == 0, result.output
    return result.output


def test_survey_help_lists_only_the_apps_commands(tmp_path):
    """`survey --help` listed Flask's routes, run and shell (and its English
    --app, --env-file, --debug and --version options), which confused staff:
    `survey run` started a development server where gunicorn belongs."""
    assert (
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["survey"]
        == "survey.manage:main"
    )
    text = _help(tmp_path)
    commands = re.findall(r"^  ([a-z][a-z-]+) ", text.split("Commands:")[1], re.M)
    assert not {"routes", "run", "shell"} & set(commands)
    # Every command the README names is there (its list, and `survey <command>` anywhere).
    readme = (ROOT / "README.md").read_text()
    listed = readme.split("## Commands (`survey --help`)")[1].split("\n## ")[0]
    named = set(re.findall(r"`survey ([a-z][a-z-]+)", readme))
    named |= set(re.findall(r"`([a-z][a-z-]+)[ `]", listed))
    assert named and named <= set(commands), named - set(commands)
    for flask_option in ("--app", "--env-file", "--debug", "--version"):
        assert flask_option not in text
    assert "gunicorn" in text  # where serving went
    assert "--no-serve" in _help(tmp_path, "demo")


def test_flasks_own_cli_keeps_its_options(tmp_path):
    """The options are hidden from a copy: Flask's own `flask` command is unchanged."""
    from flask.cli import cli as flask_cli

    result = CliRunner().invoke(flask_cli, ["--help"], prog_name="flask")
    assert "--app" in result.output and "--debug" in result.output
