"""What a questionnaire page shows: questions, their options, values and errors."""

from __future__ import annotations

import json
from dataclasses import dataclass

from questionnaires.engine import visible_questions
from survey.respond.state import FormState


@dataclass
class OptionView:
    value: str
    label: str
    exclusive: bool
    checked: bool


@dataclass
class QuestionView:
    id: str
    type: str
    text: str
    help: str | None
    required: bool
    options: list[OptionView]
    value: str
    min: int | None
    max: int | None
    max_length: int | None
    error: str | None
    #: JSON of a show_if that depends on this page's answers (JS toggles it).
    show_if_json: str | None


def _refs(condition) -> set[str]:
    if not isinstance(condition, dict):
        return set()
    found = {condition["question"]} if "question" in condition else set()
    for key in ("all", "any"):
        for sub in condition.get(key) or []:
            found |= _refs(sub)
    return found


def shown_questions(q, state: FormState) -> list[tuple]:
    """The questions of the state's page that the page shows, each with whether its
    show_if depends on this page's own answers (then JS shows or hides it there)."""
    page = q.pages[state.page]
    on_page = {question.id for question in page.questions}
    earlier = {k: v for k, v in state.answers.items() if k not in on_page}
    visible = {
        question.id for question in visible_questions(q, {}, page_id=page.id, earlier=earlier)
    }
    shown = []
    for question in page.questions:
        same_page = bool(_refs(question.show_if) & on_page)
        if question.id in visible or same_page:
            shown.append((question, same_page))
    return shown


def page_context(
    q,
    state: FormState,
    values: dict,
    errors: dict,
    districts: list[str],
    default_district: str,
    shown: list[tuple] | None = None,
) -> dict:
    """Everything page.html shows; *shown* is :func:`shown_questions` when known."""
    views = []
    for question, same_page in shown if shown is not None else shown_questions(q, state):
        value = values.get(question.id)
        if value is None and question.options_from == "districts":
            value = default_district
        chosen = (
            set(value) if isinstance(value, list) else {str(value)} if value is not None else set()
        )
        if question.options_from == "districts":
            options = [OptionView(d, d, False, d in chosen) for d in districts]
        else:
            options = [
                OptionView(o.value, o.label, bool(o.exclusive), o.value in chosen)
                for o in question.options
            ]
        views.append(
            QuestionView(
                id=question.id,
                type=question.type,
                text=question.text,
                help=question.help,
                required=question.required,
                options=options,
                value="" if value is None or isinstance(value, list) else str(value),
                min=question.min,
                max=question.max,
                max_length=question.max_length,
                error=errors.get(question.id),
                show_if_json=json.dumps(question.show_if, ensure_ascii=False)
                if same_page
                else None,
            )
        )
    return {
        "page": q.pages[state.page],
        "questions": views,
        "page_number": state.page + 1,
        "page_count": len(q.pages),
        "error_count": len(errors),
        "is_last": state.page + 1 == len(q.pages),
    }
