"""The variables of a microdata export and their labels (from the questionnaire).

Codes. CSV and XLSX hold the questionnaire's codes as they are ("5", "dk").
SPSS and Stata want numbers (:func:`numeric_codes`): a numeric code keeps its
number; a variable without any numeric code numbers its answers 1, 2, … in the
order of the options; every other code (such as ``dk``) takes a number above
all of these: 99, 98, … (999, … when 99 is too small). The options that are not
answers (``excluded_from_scoring``: 说不清/不了解) are declared missing: SPSS
user-missing (the number stays, with its value label) and Stata extended
missing ``.a``, ``.b``, … (with the value label), so that means and
proportions leave them out as the estimates do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from questionnaires import Questionnaire
from survey.operations.quality import BEIJING  # what staff pages and the audit log show

#: A code SPSS and Stata keep as its number: an integer written plainly, ≤ 8 digits.
_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,7}")


@dataclass
class Variable:
    name: str  # ASCII, ≤ 32 characters (Stata)
    label: str  # Chinese description
    kind: str  # "str" | "num" | "int"
    #: code -> label for coded variables (exported as integers in SPSS/Stata)
    values: dict[str, str] = field(default_factory=dict)
    #: the codes that are not answers (说不清): missing values in SPSS and Stata
    missing: tuple[str, ...] = ()
    #: SPSS's measurement level when it is not what the kind says (text and
    #: coded: nominal; numbers: scale): "ordinal" for an ordered scale.
    measure: str = ""

    def measurement(self) -> str:
        """SPSS's measurement level: nominal, ordinal or scale."""
        if self.measure:
            return self.measure
        return "nominal" if self.values or self.kind in ("str", "int") else "scale"


#: Stata's longest variable name (SPSS takes 64 bytes).
MAX_NAME = 32


#: The names of the columns that only some files have: never an item's, even
#: in a file without them (a question ``weight`` would be the weight there).
SOMETIMES = ("excluded", "weight")


def export_names(names: list[str], reserved: Iterable[str] = ()) -> list[str]:
    """*names* as Stata and SPSS take them: at most :data:`MAX_NAME` characters and
    unique (SPSS ignores case). A longer name is cut; a name equal to an earlier
    one (two items whose ids begin alike, cut; a question called ``weight``) or
    to one of *reserved* ends in _2, _3, … The earlier one keeps its name."""
    taken: set[str] = {name.lower() for name in reserved}
    out = []
    for name in names:
        unique, k = name[:MAX_NAME], 1
        while unique.lower() in taken:
            k += 1
            unique = f"{name[: MAX_NAME - len(str(k)) - 1]}_{k}"
        taken.add(unique.lower())
        out.append(unique)
    return out


def numeric_codes(v: Variable) -> dict[str, int]:
    """The number of each of *v*'s codes in SPSS and Stata (see the module docstring)."""
    numbers = {code: int(code) for code in v.values if _INTEGER.fullmatch(code)}
    rest = [code for code in v.values if code not in numbers]
    if not numbers:  # text codes only (know/heard/unknown): the answers are 1, 2, …
        answers = [code for code in rest if code not in v.missing]
        numbers = {code: i for i, code in enumerate(answers, 1)}
        rest = [code for code in rest if code in v.missing]
    if rest:  # above every other number: the missing ones first (99 = 说不清)
        rest.sort(key=lambda code: code not in v.missing)
        top = 99
        while top - len(rest) < max(numbers.values(), default=0):
            top = top * 10 + 9
        numbers.update({code: top - i for i, code in enumerate(rest)})
    return {code: numbers[code] for code in v.values}


def stata_missing(v: Variable) -> dict[str, str]:
    """Code → letter of the extended missing value (.a, .b, …) in Stata."""
    if len(v.missing) > 26:
        raise ValueError(f"{v.name}: Stata has 26 extended missing values (.a–.z)")
    return {code: chr(ord("a") + i) for i, code in enumerate(v.missing)}


def code_table(v: Variable, fmt: str) -> str:
    """*v*'s codes and labels as the file of format *fmt* (csv, xlsx, sav, dta) holds them."""
    if not v.values:
        return ""
    if fmt in ("csv", "xlsx"):
        return "; ".join(f"{code}={label}" for code, label in v.values.items())
    numbers, letters = numeric_codes(v), stata_missing(v)
    parts = []
    for code, label in v.values.items():
        if code in v.missing and fmt == "dta":
            parts.append(f".{letters[code]}={label}（扩展缺失值）")
        elif code in v.missing:
            parts.append(f"{numbers[code]}={label}（用户缺失值）")
        else:
            parts.append(f"{numbers[code]}={label}")
    return "; ".join(parts)


#: What the codebook says of codes and times (the XLSX's note sheet).
CODING_NOTE = "\n".join((
    "代码：CSV 和 Excel 保存问卷中的选项代码（如满意度 5=满意 … 1=不满意，dk=说不清/不了解）。",
    "SPSS（.sav）和 Stata（.dta）保存数字：数字代码保持不变（5 仍为 5）；没有数字代码的题目"
    "按选项顺序编为 1、2、…；其他代码（如 dk）编为 99（99 不够大时为 999 等），"
    "各格式的代码见“变量说明”表。",
    "说不清/不了解等不计分的选项：SPSS 中为用户缺失值（如 99，保留值标签），Stata 中为扩展缺失值"
    " .a（保留值标签），计算均值、比例时不计入，与本系统的估计一致；CSV/Excel 中为 dk，"
    "分析前请设为缺失。",
    "时间：开始时间（started_at）和提交时间（submitted_at）均为北京时间（UTC+8），与管理页面和操作日志一致。",
))  # fmt: skip

#: Said of the weights when the excluded responses are in the file too.
EXCLUDED_WEIGHT_NOTE = (
    "已剔除的答卷（excluded=1）权数为空（缺失）：有效答卷的权数之和等于各区县的人口数，"
    "对权数列求和即得人口总数；剔除的答卷不参与加权。"
)


PARADATA = [
    # The response's number, not its receipt code: whoever holds the receipt code
    # can withdraw the answer, and exports travel further than the resident's receipt.
    Variable("respondent_id", "答卷编号", "str"),
    Variable("district", "区县", "str"),
    Variable("sex", "性别", "str"),
    Variable("age_group", "年龄组", "str", measure="ordinal"),
    Variable("urban_rural", "城乡", "str"),
    Variable("questionnaire", "问卷及版本", "str"),
    Variable("channel_id", "采集点编号", "int"),
    Variable("channel", "采集点", "str"),
    Variable("started_at", "开始时间（北京时间）", "str"),
    Variable("submitted_at", "提交时间（北京时间）", "str"),
    Variable("duration_seconds", "填答用时（秒）", "num"),
    Variable("device_class", "设备类型", "str"),
    Variable("over_quota", "超额样本（1=是）", "int"),
    Variable("flags", "质量标记", "str"),
]


def variables(q: Questionnaire, with_weight: bool, with_excluded: bool,
              weight_about: str = "") -> list[Variable]:  # fmt: skip
    """The export's variables; *weight_about* (how the weights were made, e.g.
    边际迭代：性别、年龄组；本轮发布口径) goes into the weight's label, so that SPSS and
    Stata files, which carry no method note, say it too."""
    out = list(PARADATA)
    if with_excluded:
        out.append(Variable("excluded", "已剔除（1=是，不属于有效数据）", "int"))
    if with_weight:  # an excluded response has none: the weights add up to the population
        about = [weight_about] if weight_about else []
        about += ["已剔除的答卷为空"] if with_excluded else []
        out.append(Variable("weight", f"加权权数（{'；'.join(about)}）" if about else "加权权数",
                            "num"))  # fmt: skip
    absent = [name for name in SOMETIMES if name not in {v.name for v in out}]
    labels = {ind.name: ind.label for ind in q.scoring}
    for ind in q.scoring:
        out.append(Variable(ind.name, f"指标：{labels[ind.name]}", "num"))
        if ind.method in ("top_two_box", "score"):
            for item in ind.items:
                out.append(
                    Variable(
                        f"{ind.name}_{item}"[:32],
                        f"{labels[ind.name]}：{q.question(item).text}",
                        "num",
                    )
                )
    for question in q.questions:
        if question.role or question.options_from:
            continue
        if question.type == "multiple_choice":
            for option in question.options:
                out.append(Variable(f"{question.id}_{option.value}"[:32],
                                    f"{question.text}：{option.label}", "int",
                                    {"0": "未选", "1": "选中"}))  # fmt: skip
        elif question.type in ("single_choice", "scale"):
            out.append(Variable(question.id, question.text, "str",
                                {o.value: o.label for o in question.options},
                                tuple(o.value for o in question.options
                                      if o.excluded_from_scoring),
                                "ordinal" if question.type == "scale" else ""))  # fmt: skip
        elif question.type == "integer":
            out.append(Variable(question.id, question.text, "num"))
        else:
            out.append(Variable(question.id, question.text, "str"))
    for v, name in zip(out, export_names([v.name for v in out], absent), strict=True):
        v.name = name
    return out


def fast_row_builder(q: Questionnaire, with_excluded: bool):
    """A function (record, weight, channel_label) -> values in the order of
    :func:`variables`, for Core rows (no ORM objects): the hot loop of exports.
    ``weight`` is False when the export has no weight column."""
    item_cols = []
    for ind in q.scoring:
        item_cols.append((ind.name, ind.name))
        if ind.method in ("top_two_box", "score"):
            item_cols += [(f"{ind.name}_{item}"[:32], f"{ind.name}.{item}") for item in ind.items]
    # (question id, option values or None), in the order of variables()
    questions = [
        (
            question.id,
            [o.value for o in question.options] if question.type == "multiple_choice" else None,
        )
        for question in q.questions
        if not (question.role or question.options_from)
    ]
    qlabel = f"{q.id} v{q.version}"

    def build(r, weight, channel_label):
        a = r.answers or {}
        ind = r.indicators or {}
        values = [
            str(r.id), r.district, r.sex, r.age_group, r.urban_rural, qlabel, r.channel_id,
            channel_label, (r.started_at + BEIJING).isoformat(timespec="seconds"),
            (r.submitted_at + BEIJING).isoformat(timespec="seconds"), round(r.duration_seconds, 1),
            r.device_class, int(r.over_quota), ",".join(r.flags or ()),
        ]  # fmt: skip
        if with_excluded:
            values.append(int(r.excluded))
        if weight is not False:  # an excluded response has no weight
            values.append(None if r.excluded else weight)
        values += [ind.get(key) for _name, key in item_cols]
        for qid, options in questions:
            answer = a.get(qid)
            if options is None:
                values.append(answer)
            elif answer is None:
                values += [None] * len(options)
            else:
                values += [1 if o in answer else 0 for o in options]
        return values

    return build
