"""Storing questionnaire versions and turning stored ones back into objects."""

from __future__ import annotations

import json
from functools import lru_cache

from sqlalchemy import func, select

from questionnaires import Questionnaire, load_questionnaire_text
from survey.extensions import db
from survey.models import QuestionnaireVersion, Response
from survey.operations.errors import OperationError


def register_questionnaire(q: Questionnaire) -> QuestionnaireVersion:
    """Store a validated questionnaire version (idempotent).

    Loading the same id and version again with identical content does nothing.
    Different content under the same version is accepted only while nobody has
    answered that version; otherwise a new version number is required.
    """
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
        elif stored.content_hash != q.content_hash:
            answered = session.scalar(
                select(func.count(Response.id)).where(Response.questionnaire_id == stored.id)
            )
            if answered:
                raise OperationError(
                    f"问卷 {q.id} 第 {q.version} 版已有 {answered} 份答卷，不能再修改；"
                    f"请把文件中的 version 改为 {q.version + 1} 后重新导入。"
                )
            stored.title = q.title
            stored.content_hash = q.content_hash
            stored.definition = q.raw
    return stored


@lru_cache(maxsize=32)
def _build(content_hash: str, definition_json: str) -> Questionnaire:
    return load_questionnaire_text(definition_json, filename=f"<stored {content_hash[:8]}>")


def questionnaire_of(version: QuestionnaireVersion) -> Questionnaire:
    """The engine object of a stored version (cached per content hash)."""
    return _build(version.content_hash, json.dumps(version.definition, ensure_ascii=False))
