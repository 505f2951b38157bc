#!/usr/bin/env python3
"""One-command setup for newcomers; needs only Python >= 3.11.

    python3 dev.py demo     set up a virtual environment and start the demo
    python3 dev.py test     set up a virtual environment and run the whole test suite

The virtual environment lives in ``.venv`` (created on first use; re-used after).
``test`` also runs the suite against PostgreSQL when a server answers on
127.0.0.1:5432 (or ``SURVEY_TEST_DATABASE_URL`` is set), and installs Debian's
Chromium for the browser tests when it can (root with apt-get).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def say(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def run(*cmd, check=True, env=None, quiet=False) -> int:
    output = subprocess.DEVNULL if quiet else None
    return subprocess.run(
        [str(c) for c in cmd], check=check, env=env, stdout=output, stderr=output
    ).returncode


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - the message is the point
        sys.exit("需要 Python 3.11 或更高版本 / Python >= 3.11 is required")
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PY.exists() and stamp.exists() and stamp.read_text() == digest:
        return
    if PY.exists() and run(PY, "-m", "pip", "--version", check=False, quiet=True):
        # Left by a run that could not install pip into it: every later run failed in it.
        say(f"虚拟环境 {VENV} 不完整（其中没有 pip）：重新创建")
        shutil.rmtree(VENV)
    if not PY.exists():
        create_venv()
    say("安装依赖（首次需要几分钟）")
    try:
        # setuptools too: the one venv bundles (65.5) has known CVEs (build time only).
        run(PY, "-m", "pip", "install", "-q", "--upgrade", "pip", "setuptools>=78.1.1")
        target = f".[{extras}]" if extras else "."
        run(PY, "-m", "pip", "install", "-q", "-e", target)
    except subprocess.CalledProcessError:
        sys.exit(
            "安装依赖失败：原因见上面 pip 的输出。常见原因是连不上 PyPI：请检查网络，或设置镜像"
            "（例如 export PIP_INDEX_URL=https://pypi.tuna.tsinghua.edu.cn/simple），"
            "然后再运行一次本命令（已装好的部分会保留）。"
        )
    stamp.write_text(digest)


def create_venv() -> None:
    """Create .venv with pip, or remove what was made and say what to install."""
    say(f"创建虚拟环境 {VENV}")
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
    except (subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(VENV, ignore_errors=True)  # without pip in it, the next run failed too
        sys.exit(
            f"无法创建虚拟环境（{exc}）。Debian/Ubuntu 上通常是缺少 venv 模块："
            f"请先运行 sudo apt-get install python3-venv（或 python3.{sys.version_info.minor}-venv），"
            "再运行一次本命令。"
        )


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


# Debian packages the tests use: the browser, a QR decoder, and a CJK font for charts.
SYSTEM_PACKAGES = {"chromium": "chromium", "zbarimg": "zbar-tools", "fc-list": "fontconfig"}


def _missing_debian_packages() -> list[str]:
    missing = [pkg for binary, pkg in SYSTEM_PACKAGES.items() if not shutil.which(binary)]
    if not Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc").exists():
        missing.append("fonts-noto-cjk")
    return missing


def ensure_system_packages() -> str | None:
    """Install what the browser, QR and chart tests need, when we can (root + apt)."""
    missing = _missing_debian_packages() if os.name != "nt" else []
    if missing and shutil.which("apt-get") and os.geteuid() == 0:
        say("安装 Debian 软件包：" + " ".join(missing))
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", check=False, env=env)
        run("apt-get", "install", "-y", "-qq", *missing, check=False, env=env)
    return find_chromium()


def postgres_answers(host="127.0.0.1", port=5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def cmd_demo(args: list[str]) -> int:
    ensure_venv("")
    return run(BIN / "survey", "demo", *args, check=False)


def cmd_test(args: list[str]) -> int:
    ensure_venv("test")
    env = dict(os.environ)
    chromium = ensure_system_packages()
    if chromium:
        env["SURVEY_CHROMIUM"] = chromium
    else:
        say("未找到 Chromium：浏览器端到端测试将跳过")
    say("ruff 代码检查")
    if run(PY, "-m", "ruff", "check", ".", check=False):
        return 1
    say("测试（SQLite）")
    env.pop("SURVEY_TEST_DATABASE_URL", None)
    code = run(PY, "-m", "pytest", "-q", *args, check=False, env=env)
    pg_url = os.environ.get("SURVEY_TEST_DATABASE_URL")
    if not pg_url and postgres_answers():
        pg_url = PG_DEFAULT
    if pg_url:
        say(f"测试（PostgreSQL：{pg_url}）")
        env["SURVEY_TEST_DATABASE_URL"] = pg_url
        pg_args = args or ["-m", "not analysis_only"]
        code = run(PY, "-m", "pytest", "-q", *pg_args, check=False, env=env) or code
    else:
        say("127.0.0.1:5432 上没有 PostgreSQL：跳过 PostgreSQL 测试")
    return code


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test"):
        print(__doc__)
        return 2
    os.chdir(ROOT)
    return {"demo": cmd_demo, "test": cmd_test}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
