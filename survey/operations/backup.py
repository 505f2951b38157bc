"""Online backup and restore of the SQLite database.

The backup uses SQLite's online backup API: it copies a consistent snapshot
while the app keeps accepting submissions (WAL mode lets readers and the
single writer proceed). PostgreSQL deployments use ``pg_dump``/``pg_restore``
(see README).
"""

from __future__ import annotations

import os
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
    if target.resolve() == source_path.resolve():  # renamed over the live file: lost writes
        raise OperationError(
            f"{target} 就是当前数据库本身：请为备份指定另一个文件名。数据库没有改动。"
        )
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


#: Reports a step's progress: the step (Chinese), its work done and total.
StepProgress = Callable[[str, int, int], None]

CHUNK = 4 << 20


def _migrations():
    from alembic.script import ScriptDirectory

    from survey.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(""))


def _known_revisions() -> set[str]:
    return {rev.revision for rev in _migrations().walk_revisions()}


def _check_backup(backup: Path) -> None:
    """Refuse a file that is not a backup of this platform, or one from a newer
    version of it (whose tables this code does not know)."""
    check = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        revision = (
            check.execute("SELECT version_num FROM alembic_version").fetchone()
            if "alembic_version" in tables
            else None
        )
    except sqlite3.DatabaseError as exc:
        raise OperationError(f"{backup} 不是有效的 SQLite 备份：{exc}") from exc
    finally:
        check.close()
    if ok != "ok" or "response" not in tables:
        raise OperationError(f"{backup} 不是本平台的有效备份（校验：{ok}）。")
    if revision and revision[0] not in _known_revisions():
        raise OperationError(
            f"{backup} 的数据库结构（版本 {revision[0]}）来自更新版本的程序，本程序无法使用："
            "请先升级程序，再恢复。当前数据库没有改动。"
        )


def restore_sqlite(database_url: str, backup: Path, progress: StepProgress | None = None) -> Path:
    """Replace the database with *backup* (stop the app first). Keeps the old
    database as ``<name>.before-restore``.

    The backup is first copied beside the database; then the old database is
    kept through SQLite (with what its write-ahead log still held: a copy of the
    main file alone had lost the last transactions of a server that was killed,
    since the log is then deleted), and the copy is renamed over it: an
    interrupted restore leaves the old database, never half of the new one.
    The copy comes first so that ``<name>.before-restore`` itself can be
    restored (undoing a restore): it had been overwritten with the current
    database before being read, and the database before the restore was lost.
    """
    backup = Path(backup)
    report = progress or (lambda _step, _done, _total: None)
    target = sqlite_path(database_url)
    if backup.resolve() == target.resolve():
        raise OperationError(
            f"{backup} 就是当前数据库本身，不能用它恢复：请指定一个备份文件。当前数据库没有改动。"
        )
    _check_backup(backup)
    partial = target.with_name(target.name + ".restoring")
    size = backup.stat().st_size
    try:
        with backup.open("rb") as src, open(partial, "wb") as out:
            done = 0
            while chunk := src.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                report("写入恢复的数据库", done, size)
            out.flush()
            os.fsync(out.fileno())
        partial.chmod(0o600)
        if target.exists():
            _keep_current(target, report)
        # The old log must not be applied to the restored file.
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _keep_current(target: Path, report: StepProgress) -> None:
    """Save the database as ``<name>.before-restore``, with what its log holds."""
    keep = target.with_name(target.name + ".before-restore")
    keep.unlink(missing_ok=True)
    os.close(os.open(keep, os.O_CREAT | os.O_WRONLY, 0o600))
    source, dest = sqlite3.connect(target, timeout=30), sqlite3.connect(keep)
    step = f"保存当前数据库为 {keep.name}"
    try:
        with dest:
            source.backup(
                dest,
                pages=256,
                progress=lambda _s, left, total: report(step, total - left, total),
            )
        dest.execute("PRAGMA journal_mode=DELETE")
    finally:
        dest.close()
        source.close()
