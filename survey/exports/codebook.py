"""The variables of a microdata export and their labels (from the questionnaire)."""

from __future__ import annotations

from dataclasses import dataclass, field

from questionnaires import Questionnaire


@dataclass
class Variable:
    name: str  # ASCII, ≤ 32 characters (Stata)
    label: str  # Chinese description
    kind: str  # "str" | "num" | "int"
    #: code -> label for coded variables (exported as integers in SPSS/Stata)
    values: dict[str, str] = field(default_factory=dict)


PARADATA = [
    # The response's number, not its receipt code: whoever holds the receipt code
    # can withdraw the answer, and exports travel further than the resident's receipt.
    Variable("respondent_id", "答卷编号", "str"),
    Variable("district", "区县", "str"),
    Variable("sex", "性别", "str"),
    Variable("age_group", "年龄组", "str"),
    Variable("urban_rural", "城乡", "str"),
    Variable("questionnaire", "问卷及版本", "str"),
    Variable("channel_id", "采集点编号", "int"),
    Variable("channel", "采集点", "str"),
    Variable("started_at", "开始时间（UTC）", "str"),
    Variable("submitted_at", "提交时间（UTC）", "str"),
    Variable("duration_seconds", "填答用时（秒）", "num"),
    Variable("device_class", "设备类型", "str"),
    Variable("over_quota", "超额样本（1=是）", "int"),
    Variable("flags", "质量标记", "str"),
]


def variables(q: Questionnaire, with_weight: bool, with_excluded: bool) -> list[Variable]:
    out = list(PARADATA)
    if with_excluded:
        out.append(Variable("excluded", "已剔除（1=是，不属于有效数据）", "int"))
    if with_weight:
        out.append(Variable("weight", "加权权数", "num"))
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
                                {o.value: o.label for o in question.options}))  # fmt: skip
        elif question.type == "integer":
            out.append(Variable(question.id, question.text, "num"))
        else:
            out.append(Variable(question.id, question.text, "str"))
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
            channel_label, r.started_at.isoformat(timespec="seconds"),
            r.submitted_at.isoformat(timespec="seconds"), round(r.duration_seconds, 1),
            r.device_class, int(r.over_quota), ",".join(r.flags or ()),
        ]  # fmt: skip
        if with_excluded:
            values.append(int(r.excluded))
        if weight is not False:
            values.append(weight)
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
