"""The ``survey`` console script: Flask's CLI with this app's commands."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from survey import create_app


@click.group(cls=FlaskGroup, create_app=lambda: create_app())
def main() -> None:
    """公众对生态文明建设满意度与参与度调查平台 — 管理命令。

    常用：survey demo（演示）、survey db-upgrade、survey load-questionnaire、survey qrcodes。
    """


if __name__ == "__main__":
    main()
