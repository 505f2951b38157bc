"""CLI: create staff accounts, reset passwords, list accounts."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from survey.cli import needs_schema
from survey.models.staff import ROLES
from survey.operations.errors import OperationError


@click.command("create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), required=True,
              help="可多次指定：administrator / organizer / statistician")  # fmt: skip
@click.option("--display-name", default="", help="显示名称")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码")
@with_appcontext
@needs_schema
def create_user_cmd(username, roles, display_name, password_stdin) -> None:
    """创建工作人员账号。"""
    from survey.operations.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    try:
        user = create_user(username, password, roles, display_name, actor_name="cli")
    except OperationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已创建账号 {user.username}（角色：{', '.join(sorted(user.roles))}）")


@click.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取新密码（否则随机生成）")
@with_appcontext
@needs_schema
def reset_password_cmd(username, password_stdin) -> None:
    """重置密码（默认随机生成临时密码）：用户下次登录须先改密码，已登录的会话全部失效。"""
    from survey.operations.users import reset_password

    new = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        user, password = reset_password(username, new, actor_name="cli")
    except OperationError as exc:
        raise click.ClickException(str(exc)) from exc
    if new is None:
        click.echo(f"{user.username} 的临时密码：{password}")
    else:
        click.echo(f"已重置 {user.username} 的密码。")


@click.command("list-users")
@with_appcontext
@needs_schema
def list_users_cmd() -> None:
    """列出工作人员账号。"""
    from survey.operations.users import list_users

    for user in list_users():
        state = "启用" if user.is_active else "停用"
        click.echo(f"{user.username}\t{user.display_name}\t{','.join(sorted(user.roles))}\t{state}")


COMMANDS = (create_user_cmd, reset_password_cmd, list_users_cmd)
