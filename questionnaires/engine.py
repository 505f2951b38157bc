"""The questionnaire engine: visibility (skip logic), answer parsing and
validation, screening and scoring. Independent of the web app.

Answers are plain data: ``{question id: str | list[str] | int}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from questionnaires.model import Question, Questionnaire

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")
INTEGER_RE = re.compile(r"^[+-]?\d{1,9}$")
#: A number, though maybe not a whole one or too long (12.5, 1,000): the bounds say what is wanted.
NUMBER_LIKE_RE = re.compile(r"^[+-]?[\d.,，。 ]*\d[\d.,，。 ]*$")
#: Said first of an integer answer with anything but digits in it (letters, 汉字 such as
#: 十二, a unit such as 年): what is wrong, before what is wanted.
NOT_A_NUMBER = "只能填写数字。"


def condition_holds(cond: dict | None, answers: Mapping[str, Any]) -> bool:
    """Evaluate a ``show_if`` condition against answers given so far."""
    if not cond:
        return True
    if "all" in cond and not all(condition_holds(c, answers) for c in cond["all"]):
        return False
    if "any" in cond and not any(condition_holds(c, answers) for c in cond["any"]):
        return False
    if "question" not in cond:
        return True
    value = answers.get(cond["question"])
    if value is None or value == [] or value == "":
        return False
    chosen = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if "equals" in cond:
        return chosen == [str(cond["equals"])]
    if "not_equals" in cond:
        return str(cond["not_equals"]) not in chosen
    if "in" in cond:
        return any(v in {str(x) for x in cond["in"]} for v in chosen)
    if "includes" in cond:
        return str(cond["includes"]) in chosen
    return True


def visible_questions(
    q: Questionnaire,
    answers: Mapping[str, Any],
    page_id: str | None = None,
    earlier: Mapping[str, Any] | None = None,
) -> list[Question]:
    """Questions (of *page_id*, or all) whose condition holds.

    Conditions are evaluated in order with *earlier* answers plus *answers*;
    a question hidden by skip logic counts as unanswered for later conditions.
    """
    known: dict[str, Any] = dict(earlier or {})
    known.update(answers)
    shown = []
    for question in q.questions:
        visible = condition_holds(question.show_if, known)
        if not visible:
            known.pop(question.id, None)
        if visible and (page_id is None or question.page_id == page_id):
            shown.append(question)
    return shown


def _getlist(form, key: str) -> list[str]:
    if hasattr(form, "getlist"):
        return [str(v) for v in form.getlist(key)]
    value = form.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _options(question: Question, dynamic: Mapping[str, list[str]] | None) -> list[str]:
    if question.options_from:
        return list((dynamic or {}).get(question.options_from, []))
    return [o.value for o in question.options]


def _parse_one(question: Question, raw: list[str], dynamic) -> tuple[Any, str | None]:
    """(value or None, error or None) for one visible question."""
    raw = [v.strip() for v in raw if v is not None and v.strip() != ""]
    if question.type in ("single_choice", "scale"):
        if not raw:
            return None, "请选择一项" if question.required else None
        if len(raw) > 1 or raw[0] not in _options(question, dynamic):
            return None, "选项无效，请重新选择"
        return raw[0], None
    if question.type == "multiple_choice":
        if not raw:
            return None, "请至少选择一项" if question.required else None
        allowed = _options(question, dynamic)
        if any(v not in allowed for v in raw) or len(set(raw)) != len(raw):
            return None, "选项无效，请重新选择"
        exclusive = {o.value for o in question.options if o.exclusive}
        if len(raw) > 1 and exclusive & set(raw):
            label = next(o.label for o in question.options if o.value in exclusive & set(raw))
            return None, f"“{label}”不能与其他选项同时选择"
        return [v for v in allowed if v in raw], None
    if question.type == "integer":
        if not raw:
            return None, "请填写一个整数" if question.required else None
        lo, hi = question.min, question.max
        if len(raw) > 1 or not INTEGER_RE.match(raw[0]):
            if len(raw) == 1 and not NUMBER_LIKE_RE.match(raw[0]):  # 十二, 12年, abc
                return None, NOT_A_NUMBER + _bounds_message(lo, hi)
            return None, _bounds_message(lo, hi)
        number = int(raw[0])
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            return None, _bounds_message(lo, hi)
        return number, None
    # text
    text = "\n".join(raw).replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        return None, "请填写此题" if question.required else None
    if CONTROL_CHARS.search(text):
        return None, "内容含有无法识别的字符，请删除后重新填写"
    if question.max_length and len(text) > question.max_length:
        return None, f"内容不能超过 {question.max_length} 字（当前 {len(text)} 字）"
    return text, None


def _bounds_message(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f"请输入 {lo} 到 {hi} 之间的整数"
    if lo is not None:
        return f"请输入不小于 {lo} 的整数"
    if hi is not None:
        return f"请输入不大于 {hi} 的整数"
    return "请输入整数"


def parse_answers(
    q: Questionnaire,
    form,
    page_id: str | None = None,
    dynamic_options: Mapping[str, list[str]] | None = None,
    earlier: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse and validate the answers of one page (or the whole questionnaire).

    *form* is a werkzeug ``MultiDict`` or a plain mapping; field name = question id.
    Returns ``(answers, errors)``. Answers to questions hidden by skip logic are
    dropped; errors are Chinese messages keyed by question id.
    """
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    known: dict[str, Any] = dict(earlier or {})
    for question in q.questions:
        if page_id is not None and question.page_id != page_id:
            if not condition_holds(question.show_if, known):
                known.pop(question.id, None)
            continue
        if not condition_holds(question.show_if, known):
            known.pop(question.id, None)
            continue
        value, error = _parse_one(question, _getlist(form, question.id), dynamic_options)
        if error:
            errors[question.id] = error
        elif value is not None:
            answers[question.id] = value
            known[question.id] = value
    return answers, errors


def screen_out_reason(q: Questionnaire, answers: Mapping[str, Any]) -> str | None:
    """The polite message of the first screening option chosen, if any."""
    for question in q.questions:
        value = answers.get(question.id)
        if value is None or question.type not in ("single_choice", "scale"):
            continue
        option = question.option(str(value))
        if option is not None and option.screen_out:
            return option.screen_out
    return None


def score(q: Questionnaire, answers: Mapping[str, Any]) -> dict[str, float | None]:
    """Per-respondent indicator values, plus per-item values ``<name>.<item>``.

    - top_two_box: share of the respondent's valid items (说不清 excluded) that are
      positive, in [0, 1]; per item 1/0; None when nothing valid.
    - score: mean points (0–100) over valid items; per item its points.
    - any_of: 1 if at least one listed activity was chosen, else 0 (None if unanswered).
    - yes_no: 1 if the answer is one of ``yes``, else 0 (None if unanswered).
    """
    out: dict[str, float | None] = {}
    for ind in q.scoring:
        if ind.method in ("top_two_box", "score"):
            values = []
            for item in ind.items:
                answer = answers.get(item)
                question = q.question(item)
                option = question.option(str(answer)) if answer is not None else None
                if option is None or option.excluded_from_scoring:
                    item_value = None
                elif ind.method == "top_two_box":
                    item_value = 1.0 if option.value in ind.positive else 0.0
                else:
                    item_value = ind.points.get(option.value)
                out[f"{ind.name}.{item}"] = item_value
                if item_value is not None:
                    values.append(item_value)
            out[ind.name] = sum(values) / len(values) if values else None
        elif ind.method == "any_of":
            answer = answers.get(ind.items[0])
            if answer is None:
                out[ind.name] = None
            else:
                chosen = set(answer if isinstance(answer, list) else [answer])
                out[ind.name] = 1.0 if chosen & set(ind.activities) else 0.0
        else:  # yes_no
            answer = answers.get(ind.items[0])
            out[ind.name] = None if answer is None else float(str(answer) in ind.yes)
    return out


def option_label(q: Questionnaire, qid: str, value: Any) -> str:
    """The label of *value* for question *qid* (the value itself if unknown)."""
    question = q.question(qid)
    option = question.option(str(value))
    return option.label if option else str(value)


def answers_to_labels(q: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Answers with option values replaced by their labels (lists stay lists)."""
    out: dict[str, Any] = {}
    for qid, value in answers.items():
        try:
            question = q.question(qid)
        except KeyError:
            continue
        if question.type in ("text", "integer") or question.options_from:
            out[qid] = value
        elif isinstance(value, list):
            out[qid] = [option_label(q, qid, v) for v in value]
        else:
            out[qid] = option_label(q, qid, value)
    return out
