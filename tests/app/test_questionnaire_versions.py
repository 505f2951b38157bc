"""Stored questionnaire versions: idempotent loading, no silent edits of used versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from questionnaires import STANDARD_PATH, load_questionnaire_text
from survey.extensions import db
from survey.models import QuestionnaireVersion
from survey.operations.errors import OperationError
from survey.operations.questionnaires import register_questionnaire
from tests.resident import channel_token, complete

BAD = Path(__file__).parent.parent / "questionnaires" / "data" / "bad"


def _edited(version: int = 1):
    text = STANDARD_PATH.read_text(encoding="utf-8")
    text = text.replace("您对本地空气质量是否满意？", "您对本地的空气质量是否满意？")
    return load_questionnaire_text(text.replace("version: 1", f"version: {version}"))


def test_same_version_with_answers_cannot_change(app, client, demo_wave):
    complete(client, channel_token(app))
    with app.app_context():
        with pytest.raises(OperationError, match="version 改为 2"):
            register_questionnaire(_edited(1))
        v2 = register_questionnaire(_edited(2))
        assert v2.version == 2
        assert db.session.scalar(select(func.count(QuestionnaireVersion.id))) == 2


def test_unused_version_may_be_corrected_and_reloading_is_idempotent(app):
    from questionnaires import standard_questionnaire

    with app.app_context():
        first = register_questionnaire(standard_questionnaire())
        again = register_questionnaire(standard_questionnaire())
        assert first.id == again.id
        corrected = register_questionnaire(_edited(1))
        assert (
            corrected.id == first.id
            and corrected.content_hash != standard_questionnaire().content_hash
        )


def test_cli_loads_valid_file_and_refuses_bad_one(app, runner):
    ok = runner.invoke(args=["load-questionnaire", str(STANDARD_PATH)])
    assert ok.exit_code == 0, ok.output
    assert "已导入问卷 eco-satisfaction-standard 第 1 版" in ok.output
    bad = runner.invoke(args=["load-questionnaire", str(BAD / "duplicate_id.yaml")])
    assert bad.exit_code != 0
    assert "未导入" in bad.output and "duplicate_id.yaml: 题目 q1: 题目 id 重复" in bad.output
    with app.app_context():
        assert db.session.scalar(select(func.count(QuestionnaireVersion.id))) == 1


def test_cli_says_what_loading_changed_and_the_audit_log_records_it(app, runner, tmp_path):
    """Loading a questionnaire was not audited, and loading a corrected file
    under the same version said 已导入 as if it were new."""
    from survey.admin.controllers import _detail_text
    from survey.models import AuditEvent

    def events():
        with app.app_context():
            rows = db.session.scalars(
                select(AuditEvent).filter_by(action="questionnaire_load").order_by(AuditEvent.id)
            )
            return [(e.actor_name, _detail_text(e.detail)) for e in rows]

    assert runner.invoke(args=["load-questionnaire", str(STANDARD_PATH)]).exit_code == 0
    same = runner.invoke(args=["load-questionnaire", str(STANDARD_PATH)])
    assert same.exit_code == 0 and "内容相同，没有改动" in same.output
    edited = tmp_path / "edited.yaml"
    edited.write_text(STANDARD_PATH.read_text(encoding="utf-8").replace(
        "您对本地空气质量是否满意？", "您对本地的空气质量是否满意？"), encoding="utf-8")  # fmt: skip
    replaced = runner.invoke(args=["load-questionnaire", str(edited)])
    assert replaced.exit_code == 0 and "已用文件中的新内容替换问卷" in replaced.output
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    refused = runner.invoke(args=["load-questionnaire", str(malformed)])
    assert refused.exit_code != 0 and "未导入" in refused.output and "YAML" in refused.output
    logged = events()
    assert len(logged) == 2 and {actor for actor, _ in logged} == {"cli"}
    assert "版本：1" in logged[0][1] and "变动：新版本" in logged[0][1]
    assert "变动：替换了尚无答卷的同一版本的内容" in logged[1][1]


def test_demo_command_prepares_everything_without_serving(app, runner, tmp_path):
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "咸宁市 2026年度" in result.output
    for district in ("咸安区", "赤壁市", "崇阳县", "通城县", "通山县", "嘉鱼县"):
        assert district in result.output
    assert "posters.html" in result.output
    assert (Path(app.config["QR_OUTPUT_DIR"]) / "posters.html").exists()
    # The addresses printed open nothing yet: it says so, and how to start the server.
    assert "服务没有启动" in result.output and "python3 dev.py demo" in result.output
    again = runner.invoke(args=["demo", "--no-serve"])  # idempotent
    assert again.exit_code == 0
    assert again.output.count("/s/") == result.output.count("/s/")


def test_demo_command_really_serves(tmp_path):
    """`survey demo` starts a server (Flask ignores app.run() inside its CLI)."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SURVEY_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
           "SURVEY_QR_OUTPUT_DIR": str(tmp_path / "qr"), "SURVEY_SECRET_KEY": "k" * 40}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "survey.manage", "demo", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("the demo server did not answer")
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_cli_prints_loader_warnings(app, runner):
    """A questionnaire without any Chinese loads (a translation test may be one),
    but the organizer is told."""
    from questionnaires import STANDARD_PATH

    english = Path(__file__).parent.parent / "questionnaires" / "data" / "english_only.yaml"
    result = runner.invoke(args=["load-questionnaire", str(english)])
    assert result.exit_code == 0, result.output
    assert "注意：english_only.yaml: 题目文字和选项中没有一个汉字" in result.output
    assert "注意" not in runner.invoke(args=["load-questionnaire", str(STANDARD_PATH)]).output


def test_refusal_suggests_the_next_free_version(app, client, demo_wave):
    """It said 请把 version 改为 2 when version 2 was already stored."""
    complete(client, channel_token(app))
    with app.app_context():
        register_questionnaire(_edited(2))
        with pytest.raises(OperationError, match="version 改为 3") as info:
            register_questionnaire(_edited(1))
        assert "已有的版本：第 1 版、第 2 版" in str(info.value)
