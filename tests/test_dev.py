"""dev.py, the newcomer's first command: a machine it cannot set up is told what to do."""

from __future__ import annotations

import subprocess
import venv

import pytest

import dev


@pytest.fixture
def tmp_venv(tmp_path, monkeypatch):
    bin_dir = tmp_path / ".venv" / "bin"
    monkeypatch.setattr(dev, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(dev, "BIN", bin_dir)
    monkeypatch.setattr(dev, "PY", bin_dir / "python")
    return tmp_path / ".venv"


def test_no_ensurepip_says_what_to_install_and_leaves_no_half_made_venv(tmp_venv, monkeypatch):
    """Debian's python3 without python3-venv: EnvBuilder made .venv without pip and
    raised; a traceback, and every later run skipped creating .venv and failed in it."""

    def create_without_pip(self, env_dir):
        (tmp_venv / "bin").mkdir(parents=True)
        (tmp_venv / "bin" / "python").touch()
        raise subprocess.CalledProcessError(1, ["python", "-m", "ensurepip"])

    monkeypatch.setattr(venv.EnvBuilder, "create", create_without_pip)
    with pytest.raises(SystemExit) as stopped:
        dev.ensure_venv("")
    assert "python3-venv" in str(stopped.value.code) and "再运行一次" in str(stopped.value.code)
    assert not tmp_venv.exists()


def test_a_venv_left_without_pip_is_made_again(tmp_venv, monkeypatch):
    (tmp_venv / "bin").mkdir(parents=True)
    (tmp_venv / "bin" / "python").touch()
    made, commands = [], []

    def create(self, env_dir):
        made.append(env_dir)
        (tmp_venv / "bin").mkdir(parents=True)
        (tmp_venv / "bin" / "python").touch()

    def run(*cmd, check=True, env=None, quiet=False):
        commands.append(cmd[1:4])
        return 1 if cmd[1:4] == ("-m", "pip", "--version") and not made else 0

    monkeypatch.setattr(venv.EnvBuilder, "create", create)
    monkeypatch.setattr(dev, "run", run)
    dev.ensure_venv("")
    assert made == [tmp_venv]
    assert ("-m", "pip", "install") in commands


def test_a_failed_install_says_why_in_chinese_and_installs_again_next_time(tmp_venv, monkeypatch):
    (tmp_venv / "bin").mkdir(parents=True)
    (tmp_venv / "bin" / "python").touch()

    def run(*cmd, check=True, env=None, quiet=False):
        if cmd[1:4] == ("-m", "pip", "install"):
            raise subprocess.CalledProcessError(1, cmd)
        return 0

    monkeypatch.setattr(dev, "run", run)
    with pytest.raises(SystemExit) as stopped:
        dev.ensure_venv("")
    assert "安装依赖失败" in str(stopped.value.code) and "PIP_INDEX_URL" in str(stopped.value.code)
    assert not list(tmp_venv.glob(".installed-*"))
