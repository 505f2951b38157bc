"""The ``survey`` console script: Flask's CLI with this app's commands only."""

from __future__ import annotations

import copy

import click
from flask.cli import FlaskGroup

from survey import create_app


class SurveyGroup(FlaskGroup):
    """Flask's command group without Flask's own ``run``, ``shell`` and ``routes``
    commands and with its options (``--app``, ``--env-file``, ``--debug``, English,
    for developers) left out of the help: in ``survey --help`` they confused staff,
    and ``survey run`` started a development server where gunicorn belongs.
    Developers have them with ``flask --app survey``."""

    def __init__(self, **extra):
        super().__init__(add_default_commands=False, add_version_option=False, **extra)
        self.params = [_hidden(param) for param in self.params]


def _hidden(param: click.Parameter) -> click.Parameter:
    """*param* left out of the help (a copy: Flask's own ``flask`` command shares it)."""
    if param.name == "help" or not isinstance(param, click.Option):
        return param
    param = copy.copy(param)
    param.hidden = True
    return param


@click.group(cls=SurveyGroup, create_app=lambda: create_app())
def main() -> None:
    """公众对生态文明建设满意度与参与度调查平台 — 管理命令。

    常用：survey demo（演示）、survey db-upgrade、survey load-questionnaire、survey qrcodes。

    启动服务：生产环境用 gunicorn（见 README），演示用 survey demo。
    """


if __name__ == "__main__":
    main()
