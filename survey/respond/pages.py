"""What a questionnaire page shows: questions, their options, values and errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask_babel import gettext

from questionnaires.engine import NOT_A_NUMBER, visible_questions
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


def N_(message: str) -> str:
    """Marks *message* for the catalogue (pybabel's default keyword); translated later."""
    return message


#: The questionnaire engine's messages (it writes plain Chinese and knows nothing of
#: Flask), named here so that they are in the catalogue and shown translated.
ENGINE_MESSAGES = (
    N_("请选择一项"),
    N_("请至少选择一项"),
    N_("选项无效，请重新选择"),
    N_("请填写一个整数"),
    N_("请填写此题"),
    N_("请输入整数"),
    N_("内容含有无法识别的字符，请删除后重新填写"),
)
#: Its messages with numbers: (pattern, message id with the numbers' names).
_ENGINE_PATTERNS = (
    (re.compile(r"请输入 (?P<lo>-?\d+) 到 (?P<hi>-?\d+) 之间的整数"),
     N_("请输入 %(lo)s 到 %(hi)s 之间的整数")),
    (re.compile(r"请输入不小于 (?P<lo>-?\d+) 的整数"), N_("请输入不小于 %(lo)s 的整数")),
    (re.compile(r"请输入不大于 (?P<hi>-?\d+) 的整数"), N_("请输入不大于 %(hi)s 的整数")),
    (re.compile(r"内容不能超过 (?P<n>\d+) 字（当前 (?P<now>\d+) 字）"),
     N_("内容不能超过 %(n)s 字（当前 %(now)s 字）")),
    (re.compile(r"“(?P<label>.+)”不能与其他选项同时选择"), N_("“%(label)s”不能与其他选项同时选择")),
)  # fmt: skip


def translated_error(message: str | None) -> str | None:
    """An error of the questionnaire engine in the page's language."""
    if not message:
        return message
    if message.startswith(NOT_A_NUMBER) and message != NOT_A_NUMBER:
        # What is wrong, then what is wanted (a message of its own, translated so).
        rest = translated_error(message.removeprefix(NOT_A_NUMBER))
        return gettext("只能填写数字。%(then)s", then=rest)
    for pattern, msgid in _ENGINE_PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return gettext(msgid, **found.groupdict())
    return gettext(message)


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
                error=translated_error(errors.get(question.id)),
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
