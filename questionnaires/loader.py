"""Load and validate questionnaire definitions (YAML) completely before use.

Every problem in a file is collected and reported at once, each naming the
file, the question (where there is one) and what is wrong, in Chinese.
Nothing is returned unless the whole definition is valid.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from questionnaires.model import (
    CHOICE_TYPES,
    INTRO_TIME,
    QUESTION_TYPES,
    ROLES,
    Indicator,
    Option,
    Page,
    Question,
    Questionnaire,
)

SCHEMA_PATH = Path(__file__).with_name("schema.json")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
METHODS = ("top_two_box", "score", "any_of", "yes_no")
#: File encodings tried in order, as survey/operations/frames.py does for CSV frames.
ENCODINGS = ("utf-8-sig", "gb18030")
DEFAULT_SCREEN_OUT = (
    "感谢您的关注！本次调查的对象是在本地居住半年以上的 18 岁及以上居民，您无需继续填写。"
)


@dataclass(frozen=True)
class Problem:
    file: str
    question: str | None
    message: str
    #: Where, in organizer terms ("第 1 页第 5 题（id: s_noise）"), when the message
    #: itself starts by naming the place (schema problems); ``None`` otherwise.
    place: str | None = None
    #: Line in the file (1-based) where the problem is, if known.
    line: int | None = None

    def __str__(self) -> str:
        if self.place is not None:
            return f"{self.file}: {self.message}"
        where = f"题目 {self.question}: " if self.question else ""
        return f"{self.file}: {where}{self.message}"


class QuestionnaireError(ValueError):
    """A definition is invalid; ``problems`` lists everything that is wrong."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Read, validate and build the questionnaire in *path* (UTF-8 or GB18030)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QuestionnaireError([Problem(path.name, None, _unreadable(exc))]) from exc
    return load_questionnaire_bytes(data, filename=path.name)


def load_questionnaire_bytes(data: bytes, filename: str = "<upload>") -> Questionnaire:
    """Decode (see :func:`decode_questionnaire`), validate and build an uploaded file."""
    return load_questionnaire_text(decode_questionnaire(data, filename), filename=filename)


def decode_questionnaire(data: bytes, filename: str = "<upload>") -> str:
    """The text of a questionnaire file saved as UTF-8 (with or without BOM) or GB18030/GBK.

    Tried in that order, like the population-frame importer: Notepad and WPS on
    Chinese Windows often save GBK, which GB18030 includes.
    """
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise QuestionnaireError(
        [
            Problem(
                filename,
                None,
                "文件编码无法识别：请在记事本或 WPS 中“另存为”，编码选 UTF-8"
                "（或 GB18030/GBK）后重新导入。",
            )
        ]
    )


def _unreadable(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "无法读取文件：找不到这个文件，请检查文件名和所在文件夹。"
    if isinstance(exc, IsADirectoryError):
        return "无法读取文件：这是一个文件夹，请给出问卷文件（.yaml）。"
    if isinstance(exc, PermissionError):
        return "无法读取文件：没有读取权限，请检查文件权限。"
    return f"无法读取文件（{exc.strerror or exc}）。"


def load_questionnaire_text(text: str, filename: str = "<string>") -> Questionnaire:
    """Validate and build a questionnaire from YAML (or JSON) text."""
    try:
        data, root = _parse(text)
    except _TooLarge as exc:
        raise QuestionnaireError([Problem(filename, None, str(exc))]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        problem = Problem(filename, None, f"YAML 格式错误 {where}：{reason}")
        raise QuestionnaireError([problem]) from exc
    if not isinstance(data, dict):
        raise QuestionnaireError([Problem(filename, None, "文件内容应是一个问卷定义（键值对）")])
    problems = _schema_problems(data, filename, root)
    if not problems:
        problems = _semantic_problems(data, filename)
    if problems:
        raise QuestionnaireError(problems)
    return _build(data, warnings=tuple(_warnings(data, filename)))


CHINESE_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _warnings(data: dict, filename: str) -> list[Problem]:
    """What an organizer should check although the definition is valid."""
    texts = [
        str(text)
        for page in data["pages"]
        for q in page["questions"]
        for text in [q["text"], *(o.get("label", "") for o in q.get("options") or [])]
    ]
    problems = []
    if not any(CHINESE_RE.search(text) for text in texts):
        message = (
            "题目文字和选项中没有一个汉字：居民看到的将不是中文问卷。"
            "如果这是有意的（例如翻译测试），可以忽略；否则请检查是否选错了文件。"
        )
        problems.append(Problem(filename, None, message))
    minutes = data.get("estimated_minutes", 5)
    if stated := _intro_minutes(str(data.get("intro") or "")):
        low, high = stated
        if not low <= minutes <= high:
            message = (
                f"intro 写的用时（{low}–{high} 分钟）与 estimated_minutes（{minutes} 分钟）不一致："
                "首页和二维码海报都按 intro 的说法显示用时，请确认两者一致。"
            )
            problems.append(Problem(filename, None, message))
    return problems


def _intro_minutes(intro: str) -> tuple[int, int] | None:
    """The minutes an intro states in digits, as (low, high), or None."""
    found = INTRO_TIME.search(intro)
    numbers = [int(n) for n in re.findall(r"\d+", found.group(0))] if found else []
    return (min(numbers), max(numbers)) if numbers else None


#: The most values a questionnaire may hold with its aliases (``*name``) expanded,
#: and the deepest nesting: the standard questionnaire has about 600 and 8.
MAX_NODES, MAX_DEPTH = 100_000, 40


class _TooLarge(yaml.YAMLError):
    """The file is beyond :data:`MAX_NODES` or :data:`MAX_DEPTH` (message in Chinese)."""


TOO_DEEP = f"YAML 嵌套层数过多（最多 {MAX_DEPTH} 层）：问卷不需要这样深的结构，请检查括号或缩进。"


def _parse(text: str) -> tuple[Any, yaml.Node | None]:
    """``yaml.safe_load``, also returning the node tree (it knows the lines).

    Aliases share one node, so a few lines can stand for billions of values
    ("billion laughs"), which validation would then walk one by one; nesting
    deeper than Python's recursion crashed the loader. Both are refused before
    anything is built."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except RecursionError:  # the composer is recursive too
            raise _TooLarge(TOO_DEEP) from None
        _check_size(root)
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return data, root


def _check_size(root: yaml.Node | None) -> None:
    """Walk the node tree as if its aliases were copies, giving up beyond the limits."""
    stack, seen = ([(root, 1)] if root is not None else []), 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise _TooLarge(
                f"文件展开别名（&、*）之后超过 {MAX_NODES:,} 个值：问卷不需要这么多内容，"
                "请检查是否有别名层层引用。"
            )
        if depth > MAX_DEPTH:
            raise _TooLarge(TOO_DEEP)
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


def _line_of(root: yaml.Node | None, path: list) -> int | None:
    """The 1-based line of the deepest node on *path* (None for one-line text, e.g. JSON)."""
    if root is None or root.end_mark.line == root.start_mark.line:
        return None
    node = root
    for step in path:
        if isinstance(node, yaml.MappingNode):
            found = [
                v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(step)
            ]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value)
        ):
            found = [node.value[step]]
        else:
            found = []
        if not found:
            break
        node = found[-1]
    return node.start_mark.line + 1


#: What each key is called for organizers; some depend on where the key is.
FIELD_NAMES = {
    "id": "id（标识）",
    "version": "version（版本号）",
    "title": "title（标题）",
    "intro": "intro（首页引导语）",
    "estimated_minutes": "estimated_minutes（预计用时）",
    "thanks": "thanks（感谢页文字）",
    "screen_out_message": "screen_out_message（甄别结束语）",
    "pages": "pages（页面列表）",
    "questions": "questions（题目列表）",
    "scoring": "scoring（计分）",
    "headline": "headline（主要指标）",
    "satisfaction": "satisfaction（满意度指标）",
    "participation": "participation（参与度指标）",
    "type": "type（题型）",
    "text": "text（题目文字）",
    "help": "help（补充说明）",
    "required": "required（是否必答）",
    "options": "options（选项）",
    "options_from": "options_from（系统提供的选项）",
    "min": "min（最小值）",
    "max": "max（最大值）",
    "max_length": "max_length（最多字数）",
    "role": "role（单元变量）",
    "show_if": "show_if（跳题条件）",
    "value": "value（选项值）",
    "label": "label（文字）",
    "exclusive": "exclusive（互斥）",
    "screen_out": "screen_out（甄别）",
    "excluded_from_scoring": "excluded_from_scoring（不计入分母）",
    "question": "question（条件所依据的题目）",
    "equals": "equals（等于）",
    "not_equals": "not_equals（不等于）",
    "in": "in（属于其中之一）",
    "includes": "includes（包含）",
    "all": "all（全部满足）",
    "any": "any（满足其一）",
    "method": "method（计分方法）",
    "kind": "kind（指标类型）",
    "items": "items（计分题目）",
    "item": "item（计分题目）",
    "positive": "positive（计为正面的选项值）",
    "points": "points（各选项得分）",
    "activities": "activities（计入的活动选项）",
}
#: Keys whose meaning depends on what they belong to (entity kind, key).
CONTEXT_FIELD_NAMES = {
    ("questionnaire", "id"): "id（问卷标识）",
    ("questionnaire", "title"): "title（问卷标题）",
    ("page", "id"): "id（页面标识）",
    ("page", "title"): "title（页面标题）",
    ("question", "id"): "id（题目标识）",
    ("option", "label"): "label（选项文字）",
    ("indicator", "label"): "label（指标名称）",
}
TYPE_NAMES = {
    "string": "文字",
    "integer": "整数",
    "number": "数字",
    "boolean": "true 或 false",
    "array": "列表（每项以“- ”开头，或写成 [甲, 乙]）",
    "object": "键值对（“键: 值”）",
    "null": "空",
}
PATTERN_NAMES = {
    "^[a-z][a-z0-9-]{1,63}$": "只能用小写英文字母、数字和连字符（-），以字母开头，2～64 个字符",
    "^[a-z][a-z0-9_]*$": "只能用小写英文字母、数字和下划线（_），以字母开头",
}


def _actual(value: Any) -> str:
    if value is None:
        return "空（冒号后什么也没写）"
    if isinstance(value, bool):
        return f"true/false（{str(value).lower()}）"
    if isinstance(value, int):
        return f"整数 {value}"
    if isinstance(value, float):
        return f"数字 {value}"
    if isinstance(value, str):
        return f"文字“{_short(value)}”"
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "键值对"
    return type(value).__name__


def _short(value: Any, limit: int = 30) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _locate(data: Any, path: list) -> tuple[str, str | None, str, list]:
    """Split a schema error path into the organizer's place, the question id, the
    kind of thing at that place, and the rest of the path (keys inside it).

    ``pages.0.questions.4.text`` → ("第 1 页第 5 题（id: s_noise）", "s_noise", "question", ["text"]).
    """
    if len(path) >= 2 and path[0] == "pages" and isinstance(path[1], int):
        page = data["pages"][path[1]]
        place = f"第 {path[1] + 1} 页"
        if len(path) >= 4 and path[2] == "questions" and isinstance(path[3], int):
            q = page["questions"][path[3]]
            qid = q.get("id") if isinstance(q, dict) else None
            qid = qid if isinstance(qid, str) and qid else None
            place += f"第 {path[3] + 1} 题" + (f"（id: {qid}）" if qid else "")
            if len(path) >= 6 and path[4] == "options" and isinstance(path[5], int):
                option = q["options"][path[5]]
                value = option.get("value") if isinstance(option, dict) else None
                named = isinstance(value, str | int) and not isinstance(value, bool)
                shown = f"（value: {_short(value)}）" if named else ""
                return f"{place}的第 {path[5] + 1} 个选项{shown}", qid, "option", path[6:]
            return place, qid, "question", path[4:]
        pid = page.get("id") if isinstance(page, dict) else None
        if isinstance(pid, str) and pid:
            place += f"（id: {pid}）"
        return place, None, "page", path[2:]
    if len(path) >= 2 and path[0] == "scoring":
        return f"计分指标 {_short(path[1])}", None, "indicator", path[2:]
    return "问卷", None, "questionnaire", path


def _field(kind: str, key: Any) -> str:
    if isinstance(key, int):
        return f"第 {key + 1} 项"
    return CONTEXT_FIELD_NAMES.get((kind, key)) or FIELD_NAMES.get(key) or str(key)


def _subject(place: str, kind: str, rest: list) -> str:
    """ "第 1 页第 5 题（id: s_noise）的 text（题目文字）"; the place alone when *rest* is empty."""
    if not rest:
        return place
    field = _field(kind, rest[0])
    for key in rest[1:]:
        field += _field("", key) if isinstance(key, int) else f"的 {_field('', key)}"
    if kind == "questionnaire":
        return field
    return f"{place}{' 的 ' if place[-1].isascii() else '的 '}{field}"


def _schema_message(error: jsonschema.ValidationError, subject: str, kind: str, rest: list) -> str:
    """One schema error as a Chinese sentence about *subject*, with what to do."""
    value, expected, name = error.instance, error.validator_value, error.validator
    inner_kind = kind if not rest else ""
    if name == "required":
        missing = error.message.rsplit(" is a required property", 1)[0].strip("'\"")
        return f"{subject}缺少 {_field(inner_kind or kind, missing)}，请补上"
    if name == "additionalProperties":
        known = list(error.schema.get("properties") or {})
        extra = [str(k) for k in value if k not in known] if isinstance(value, dict) else []
        hints = []
        for key in extra:
            close = difflib.get_close_matches(key, known, n=1)
            if close:
                hints.append(f"“{key}”是不是想写“{close[0]}”")
        hint = "；".join(hints) if hints else f"可用的键：{'、'.join(known)}"
        return f"{subject}含有不认识的键：{'、'.join(extra)}（{hint}）。请检查拼写或删除"
    if name == "minLength":
        if expected == 1:
            return f"{subject}不能为空，请填写"
        return f"{subject}太短：至少 {expected} 个字"
    if name == "maxLength":
        return f"{subject}太长：最多 {expected} 个字（现在 {len(value)} 个字）"
    if name == "type":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        message = f"{subject}应是{'或'.join(TYPE_NAMES.get(t, t) for t in wanted)}，现在是{_actual(value)}"
        if "string" in wanted and isinstance(value, bool):
            message += (
                "。YAML 会把不加引号的 yes/no/on/off/true/false 当作是/否，"
                '需要文字时请加英文引号，如 "yes"'
            )
        elif "string" in wanted and isinstance(value, int | float):
            message += f'。需要文字时请给数字加英文引号，如 "{value}"'
        elif value is None:
            message += "，请填写"
        return message
    if name == "enum":
        allowed = "、".join(str(v) for v in expected)
        return f"{subject}只能是 {allowed}（现在是{_actual(value)}）"
    if name == "pattern":
        rule = PATTERN_NAMES.get(expected, f"须符合格式 {expected}")
        return f"{subject}格式不对：{rule}（现在是{_actual(value)}）"
    if name == "minItems":
        unit = {"pages": "页", "questions": "道题"}.get(rest[-1] if rest else "", "项")
        if not value:
            return f"{subject}不能是空的，至少需要 {expected} {unit}"
        return f"{subject}至少需要 {expected} {unit}（现在 {len(value)} {unit}）"
    if name == "minProperties":
        return f"{subject}不能是空的"
    if name == "minimum":
        return f"{subject}不能小于 {expected}（现在是 {value}）"
    if name == "maximum":
        return f"{subject}不能大于 {expected}（现在是 {value}）"
    return f"{subject}的值无效（{error.message}）"


def _path_key(path: list) -> list[tuple[int, int | str]]:
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in path]


def _schema_problems(data: dict, filename: str, root: yaml.Node | None = None) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(_schema())
    problems: list[Problem] = []
    keys: list[tuple[int, list]] = []
    for error in validator.iter_errors(data):
        path = list(error.path)
        technical = ".".join(str(p) for p in path) or "顶层"
        try:
            place, qid, kind, rest = _locate(data, path)
        except (IndexError, KeyError, TypeError, AttributeError):
            place, qid, kind, rest = "问卷", None, "questionnaire", path
        line = _line_of(root, path)
        message = _schema_message(error, _subject(place, kind, rest), kind, rest)
        position = f"第 {line} 行，{technical}" if line else technical
        problems.append(Problem(filename, qid, f"{message}。（{position}）", place, line))
        keys.append((line or 0, _path_key(path)))
    # In file order: the organizer reads the messages next to the file.
    return [p for _, p in sorted(zip(keys, problems, strict=True), key=lambda kp: kp[0])]


def _semantic_problems(data: dict, filename: str) -> list[Problem]:
    problems: list[Problem] = []

    def bad(qid, message):
        problems.append(Problem(filename, qid, message))

    seen: dict[str, dict] = {}
    order: dict[str, int] = {}
    places: dict[str, list[str]] = {}
    roles: dict[str, str] = {}
    page_ids = set()
    for page_no, page in enumerate(data["pages"], 1):
        if page["id"] in page_ids:
            bad(None, f"页面 id 重复：{page['id']}")
        page_ids.add(page["id"])
        for question_no, q in enumerate(page["questions"], 1):
            qid = q["id"]
            places.setdefault(qid, []).append(f"第 {page_no} 页第 {question_no} 题")
            if not ID_RE.match(qid):
                bad(qid, "题目 id 只能包含小写字母、数字和下划线，并以字母开头")
            seen.setdefault(qid, q)
            order.setdefault(qid, len(order))
            qtype = q["type"]
            if qtype not in QUESTION_TYPES:
                bad(qid, f"未知的题型 {qtype!r}（可用：{', '.join(QUESTION_TYPES)}）")
                continue
            _check_question(q, qtype, bad, roles)
    duplicated = {qid: where for qid, where in places.items() if len(where) > 1}
    if duplicated:
        # show_if and scoring name questions by id: with an id used twice they would
        # be checked against the wrong question and report follow-on errors that
        # hide the real one. They are checked once the ids are unique.
        problems[:0] = [
            Problem(
                filename,
                qid,
                f"题目 id 重复：{qid} 同时用于{'和'.join(where)}。每道题的 id 必须不同，"
                "请给其中一题改用别的 id（并相应修改引用它的跳题条件和计分）。"
                "id 不重复后，才会继续检查跳题条件（show_if）和计分（scoring）。",
            )
            for qid, where in duplicated.items()
        ]
        return problems
    for qid, q in seen.items():
        if "show_if" in q:
            _check_condition(q["show_if"], qid, seen, order, bad)
    _check_scoring(data, seen, bad)
    return problems


def _check_question(q: dict, qtype: str, bad, roles: dict[str, str]) -> None:
    qid = q["id"]
    options = q.get("options") or []
    if qtype in CHOICE_TYPES:
        if q.get("options_from"):
            if qtype != "single_choice":
                bad(qid, "options_from 只能用于单选题")
            if options:
                bad(qid, "使用 options_from 时不能再列出 options")
        elif len(options) < 2:
            bad(qid, "选择题至少需要 2 个选项")
    elif options or q.get("options_from"):
        bad(qid, f"{qtype} 题不能有选项")
    values = set()
    for i, option in enumerate(options, 1):
        value = str(option["value"])
        if not option.get("label", "").strip():
            bad(qid, f"第 {i} 个选项（{value}）缺少 label（文字）")
        if value in values:
            bad(qid, f"选项值重复：{value}")
        values.add(value)
        if option.get("exclusive") and qtype != "multiple_choice":
            bad(qid, f"选项 {value}：exclusive（互斥）只能用于多选题")
        if option.get("excluded_from_scoring") and qtype != "scale":
            bad(qid, f"选项 {value}：excluded_from_scoring 只能用于量表题")
        if option.get("screen_out") and qtype not in ("single_choice", "scale"):
            bad(qid, f"选项 {value}：screen_out（甄别）只能用于单选题")
    if qtype == "integer":
        lo, hi = q.get("min"), q.get("max")
        if lo is not None and hi is not None and lo > hi:
            bad(qid, f"min（{lo}）大于 max（{hi}）")
    elif "min" in q or "max" in q:
        bad(qid, "min/max 只能用于整数题")
    if "max_length" in q and qtype != "text":
        bad(qid, "max_length 只能用于文本题")
    role = q.get("role")
    if role is not None:
        if role not in ROLES:
            bad(qid, f"未知的 role {role!r}（可用：{', '.join(ROLES)}）")
        elif role in roles:
            bad(qid, f"role {role} 已由题目 {roles[role]} 使用，每个 role 只能用一次")
        else:
            roles[role] = qid
        if qtype != "single_choice":
            bad(qid, "带 role 的题目必须是单选题")
        for option in options:
            if str(option["value"]) != option.get("label", "") and not option.get("screen_out"):
                bad(
                    qid,
                    f"带 role 的题目选项值须与文字相同（人口数据使用这些文字）：{option['value']}",
                )


def _check_condition(cond: dict, qid: str, seen: dict, order: dict, bad) -> None:
    for key in ("all", "any"):
        for sub in cond.get(key) or []:
            _check_condition(sub, qid, seen, order, bad)
    target = cond.get("question")
    tests = [k for k in ("equals", "not_equals", "in", "includes") if k in cond]
    if target is None:
        if tests:
            bad(qid, "show_if 缺少 question（条件所依据的题目）")
        return
    if len(tests) != 1:
        bad(qid, "show_if 需要且只能有一个判断：equals、not_equals、in 或 includes")
    if target not in seen:
        bad(qid, f"show_if 指向不存在的题目 {target}")
        return
    if order[target] >= order[qid]:
        bad(qid, f"show_if 只能依据前面的题目（{target} 在本题之后或就是本题）")
        return
    source = seen[target]
    if "includes" in cond and source["type"] != "multiple_choice":
        bad(qid, f"includes 只能用于多选题（{target} 不是多选题）")
    if source.get("options_from"):
        return
    values = {str(o["value"]) for o in source.get("options") or []}
    if not values:
        return
    wanted = [cond[k] for k in ("equals", "not_equals", "includes") if k in cond]
    wanted += list(cond.get("in") or [])
    for value in wanted:
        if str(value) not in values:
            bad(qid, f"show_if 使用了题目 {target} 中不存在的选项值 {value}")


def _check_scoring(data: dict, seen: dict, bad) -> None:
    scoring = data.get("scoring") or {}
    if not scoring:
        bad(None, "scoring 中至少需要一个指标（满意度、参与度）")
    for name, ind in scoring.items():
        where = f"指标 {name}"
        if not ID_RE.match(name):
            bad(None, f"{where}：名称只能包含小写字母、数字和下划线")
        method = ind["method"]
        if method not in METHODS:
            bad(None, f"{where}：未知的计分方法 {method!r}（可用：{', '.join(METHODS)}）")
            continue
        if method in ("top_two_box", "score"):
            items = ind.get("items") or []
            if not items:
                bad(None, f"{where}：缺少 items（计分题目）")
            for item in items:
                if item not in seen:
                    bad(None, f"{where}：计分题目 {item} 不存在")
                elif seen[item]["type"] != "scale":
                    bad(item, f"{where}：计分题目必须是量表题")
            known = _values(seen, items)
            if method == "top_two_box":
                if not ind.get("positive"):
                    bad(None, f"{where}：缺少 positive（计为满意的选项值）")
                for value in ind.get("positive") or []:
                    if str(value) not in known:
                        bad(None, f"{where}：positive 中的选项值 {value} 不在计分题目中")
            else:
                points = ind.get("points") or {}
                if not points:
                    bad(None, f"{where}：缺少 points（各选项得分）")
                for value in points:
                    if str(value) not in known:
                        bad(None, f"{where}：points 中的选项值 {value} 不在计分题目中")
                for item in items:
                    for option in (seen.get(item) or {}).get("options") or []:
                        if not option.get("excluded_from_scoring") and str(option["value"]) not in {
                            str(k) for k in points
                        }:
                            bad(item, f"{where}：选项 {option['value']} 没有分值")
        else:
            item = ind.get("item")
            if not item:
                bad(None, f"{where}：缺少 item（计分题目）")
                continue
            if item not in seen:
                bad(None, f"{where}：计分题目 {item} 不存在")
                continue
            wanted_type = "multiple_choice" if method == "any_of" else "single_choice"
            if seen[item]["type"] != wanted_type:
                kind = "多选题" if method == "any_of" else "单选题"
                bad(item, f"{where}：{method} 的计分题目必须是{kind}")
            key = "activities" if method == "any_of" else "positive"
            if method == "yes_no" and not ind.get("positive"):
                bad(None, f"{where}：缺少 positive（表示“是”的选项值）")
            known = _values(seen, [item])
            for value in ind.get(key) or []:
                if str(value) not in known:
                    bad(None, f"{where}：{key} 中的选项值 {value} 不在题目 {item} 中")
    headline = data.get("headline") or {}
    for key, name in headline.items():
        if name not in scoring:
            bad(None, f"headline.{key} 指向不存在的指标 {name}")


def _values(seen: dict, items: list[str]) -> set[str]:
    return {str(o["value"]) for i in items for o in (seen.get(i) or {}).get("options") or []}


def canonical_hash(data: dict) -> str:
    """SHA-256 of the definition's canonical JSON (ignores YAML comments and layout)."""
    canon = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _build(data: dict[str, Any], warnings: tuple[Problem, ...] = ()) -> Questionnaire:
    default_message = data.get("screen_out_message") or DEFAULT_SCREEN_OUT
    pages = []
    for page in data["pages"]:
        questions = []
        for q in page["questions"]:
            options = tuple(
                Option(
                    value=str(o["value"]),
                    label=o.get("label", ""),
                    exclusive=bool(o.get("exclusive")),
                    screen_out=(
                        None
                        if not o.get("screen_out")
                        else o["screen_out"]
                        if isinstance(o["screen_out"], str)
                        else default_message
                    ),
                    excluded_from_scoring=bool(o.get("excluded_from_scoring")),
                )
                for o in q.get("options") or []
            )
            questions.append(
                Question(
                    id=q["id"],
                    type=q["type"],
                    text=q["text"],
                    page_id=page["id"],
                    help=q.get("help"),
                    required=q.get("required", True),
                    options=options,
                    min=q.get("min"),
                    max=q.get("max"),
                    max_length=q.get("max_length", 200) if q["type"] == "text" else None,
                    show_if=q.get("show_if"),
                    role=q.get("role"),
                    options_from=q.get("options_from"),
                )
            )
        pages.append(Page(page["id"], page["title"], tuple(questions)))
    scoring = []
    for name, ind in (data.get("scoring") or {}).items():
        method = ind["method"]
        kind = ind.get("kind") or ("mean" if method == "score" else "proportion")
        item = ind.get("item")
        activities = tuple(str(v) for v in ind.get("activities") or [])
        if method == "any_of" and not activities:
            source = next(q for p in pages for q in p.questions if q.id == item)
            activities = tuple(o.value for o in source.options if not o.exclusive)
        scoring.append(
            Indicator(
                name=name,
                label=ind.get("label", name),
                method=method,
                kind=kind,
                items=tuple(ind.get("items") or ([item] if item else [])),
                positive=tuple(str(v) for v in ind.get("positive") or []),
                points={str(k): float(v) for k, v in (ind.get("points") or {}).items()},
                activities=activities,
                yes=tuple(str(v) for v in ind.get("positive") or []) if method == "yes_no" else (),
            )
        )
    return Questionnaire(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        intro=data.get("intro", ""),
        estimated_minutes=data.get("estimated_minutes", 5),
        thanks=data.get("thanks", "感谢您的参与！"),
        screen_out_message=default_message,
        pages=tuple(pages),
        scoring=tuple(scoring),
        headline=dict(data.get("headline") or {}),
        content_hash=canonical_hash(data),
        raw=data,
        warnings=warnings,
    )
