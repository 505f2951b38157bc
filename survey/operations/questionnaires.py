"""Storing questionnaire versions and turning stored ones back into objects."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from questionnaires import Questionnaire, load_questionnaire_text
from survey.extensions import db
from survey.models import QuestionnaireVersion, Response
from survey.operations.errors import OperationError


def register_questionnaire(q: Questionnaire, actor_name: str | None = None) -> QuestionnaireVersion:
    """Store a validated questionnaire version (idempotent).

    Loading the same id and version again with identical content does nothing.
    Different content under the same version is accepted only while nobody has
    answered that version; otherwise a new version number is required. A version
    added or replaced is audited (it had not been: nobody could tell who loaded
    the questionnaire a wave asks, nor when a version's content changed).
    """
    from survey.operations.audit import record

    change = None
    with db.write() as session:
        stored = session.scalar(
            select(QuestionnaireVersion).filter_by(slug=q.id, version=q.version)
        )
        if stored is None:
            stored = QuestionnaireVersion(
                slug=q.id,
                version=q.version,
                title=q.title,
                content_hash=q.content_hash,
                definition=q.raw,
            )
            session.add(stored)
            change = "version_added"
        elif stored.content_hash != q.content_hash:
            answered = session.scalar(
                select(func.count(Response.id)).where(Response.questionnaire_id == stored.id)
            )
            if answered:
                versions = session.scalars(
                    select(QuestionnaireVersion.version)
                    .filter_by(slug=q.id)
                    .order_by(QuestionnaireVersion.version)
                ).all()
                raise OperationError(
                    f"问卷 {q.id} 第 {q.version} 版已有 {answered} 份答卷，不能再修改；"
                    f"已有的版本：{'、'.join(f'第 {v} 版' for v in versions)}。"
                    f"请把文件中的 version 改为 {versions[-1] + 1} 后重新导入。"
                )
            stored.title = q.title
            stored.content_hash = q.content_hash
            stored.definition = q.raw
            change = "version_replaced"
        if change:
            session.flush()
            record(session, "questionnaire_load", "questionnaire", stored.id,
                   {"questionnaire": q.id, "version": q.version, "title": q.title,
                    "change": change}, actor_name=actor_name)  # fmt: skip
    return stored


#: Engine objects by content hash: a version's definition is validated once per
#: process, not on every request (the hash identifies the content exactly).
_built: dict[str, Questionnaire] = {}


def questionnaire_of(version: QuestionnaireVersion) -> Questionnaire:
    """The engine object of a stored version (cached per content hash)."""
    q = _built.get(version.content_hash)
    if q is None:
        text = json.dumps(version.definition, ensure_ascii=False)
        q = load_questionnaire_text(text, filename=f"<stored {version.content_hash[:8]}>")
        _built[version.content_hash] = q
    return q
