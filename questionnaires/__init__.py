"""Questionnaires as data: the YAML format, its schema, the loader and the engine.

    from questionnaires import load_questionnaire, standard_questionnaire
    q = standard_questionnaire()
    from questionnaires.engine import parse_answers, score

See ``FORMAT.md`` for the file format.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from questionnaires.loader import (
    Problem,
    QuestionnaireError,
    decode_questionnaire,
    load_questionnaire,
    load_questionnaire_bytes,
    load_questionnaire_text,
)
from questionnaires.model import Indicator, Option, Page, Question, Questionnaire

STANDARD_PATH = Path(__file__).with_name("standard.yaml")


@lru_cache(maxsize=1)
def standard_questionnaire() -> Questionnaire:
    """The shipped standard questionnaire 公众对生态文明建设满意度与参与度调查问卷."""
    return load_questionnaire(STANDARD_PATH)


__all__ = [
    "STANDARD_PATH",
    "Indicator",
    "Option",
    "Page",
    "Problem",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "decode_questionnaire",
    "load_questionnaire",
    "load_questionnaire_bytes",
    "load_questionnaire_text",
    "standard_questionnaire",
]
