"""Online backup and restore of the SQLite database.

The backup uses SQLite's online backup API: it copies a consistent snapshot
while the app keeps accepting submissions (WAL mode lets readers and the
single writer proceed). PostgreSQL deployments use ``pg_dump``/``pg_restore``
(see README).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from survey.operations.errors import OperationError


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise OperationError(
            "在线备份命令只适用于 SQLite；PostgreSQL 请使用 pg_dump / pg_restore（见 README）。"
        )
    return Path(url.database)


def backup_sqlite(
    database_url: str, target: Path, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Copy a consistent snapshot of the live database to *target*; verify it."""
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise OperationError(f"数据库文件不存在：{source_path}")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # Readable by its owner only, whatever the umask: it holds every answer, the staff's
    # password hashes and the receipt codes (which erase answers).
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600))
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    dest = sqlite3.connect(partial)
    try:
        with dest:
            source.backup(
                dest,
                pages=256,
                progress=(lambda _s, remaining, total: progress(total - remaining, total))
                if progress
                else None,
            )
        dest.execute("PRAGMA journal_mode=DELETE")
        ok = dest.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        dest.close()
        source.close()
    if ok != "ok":
        partial.unlink(missing_ok=True)
        raise OperationError(f"备份文件校验失败：{ok}")
    partial.replace(target)
    return target


def restore_sqlite(database_url: str, backup: Path) -> Path:
    """Replace the database with *backup* (stop the app first). Keeps the old file."""
    backup = Path(backup)
    check = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise OperationError(f"{backup} 不是有效的 SQLite 备份：{exc}") from exc
    finally:
        check.close()
    if ok != "ok" or "response" not in tables:
        raise OperationError(f"{backup} 不是本平台的有效备份（校验：{ok}）。")
    target = sqlite_path(database_url)
    if target.exists():
        keep = target.with_name(target.name + ".before-restore")
        shutil.copy2(target, keep)
        keep.chmod(0o600)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copy2(backup, target)
    return target
