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
    Variable("respondent_id", "回执码（受访者编号）", "str"),
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


def row_of(response, q: Questionnaire, weight: float | None, with_excluded: bool) -> dict:
    a = response.answers or {}
    ind = response.indicators or {}
    row = {
        "respondent_id": response.receipt_code,
        "district": response.district,
        "sex": response.sex,
        "age_group": response.age_group,
        "urban_rural": response.urban_rural,
        "questionnaire": f"{q.id} v{q.version}",
        "channel_id": response.channel_id,
        "channel": response.channel.label,
        "started_at": response.started_at.isoformat(timespec="seconds"),
        "submitted_at": response.submitted_at.isoformat(timespec="seconds"),
        "duration_seconds": round(response.duration_seconds, 1),
        "device_class": response.device_class,
        "over_quota": int(response.over_quota),
        "flags": ",".join(response.flags or []),
    }
    if with_excluded:
        row["excluded"] = int(response.excluded)
    if weight is not None:
        row["weight"] = weight
    for indicator in q.scoring:
        row[indicator.name] = ind.get(indicator.name)
        if indicator.method in ("top_two_box", "score"):
            for item in indicator.items:
                row[f"{indicator.name}_{item}"[:32]] = ind.get(f"{indicator.name}.{item}")
    for question in q.questions:
        if question.role or question.options_from:
            continue
        value = a.get(question.id)
        if question.type == "multiple_choice":
            chosen = set(value or [])
            for option in question.options:
                row[f"{question.id}_{option.value}"[:32]] = (
                    None if value is None else int(option.value in chosen)
                )
        else:
            row[question.id] = value
    return row
