"""Engine: skip logic, parsing and validation, screening, scoring (hand-computed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from questionnaires import load_questionnaire, standard_questionnaire
from questionnaires.engine import (
    answers_to_labels,
    parse_answers,
    score,
    screen_out_reason,
    visible_questions,
)

DATA = Path(__file__).parent / "data"


def q_(name):
    return load_questionnaire(DATA / name)


def test_required_and_optional_single_choice():
    q = q_("single_choice.yaml")
    answers, errors = parse_answers(q, MultiDict())
    assert errors == {"color": "请选择一项"}
    answers, errors = parse_answers(q, MultiDict({"color": "green"}))
    assert (answers, errors) == ({"color": "green"}, {})
    assert score(q, answers) == {"likes_green": 1.0}


def test_tampered_option_value_is_rejected():
    q = q_("single_choice.yaml")
    _, errors = parse_answers(q, MultiDict([("color", "blue")]))
    assert errors["color"] == "选项无效，请重新选择"
    _, errors = parse_answers(q, MultiDict([("color", "red"), ("color", "green")]))
    assert errors["color"] == "选项无效，请重新选择"


def test_exclusive_none_of_these():
    q = q_("multiple_exclusive.yaml")
    _, errors = parse_answers(q, MultiDict([("acts", "a"), ("acts", "none")]))
    assert errors["acts"] == "“以上都没有”不能与其他选项同时选择"
    answers, errors = parse_answers(q, MultiDict([("acts", "none")]))
    assert not errors and score(q, answers) == {"participated": 0.0}
    answers, _ = parse_answers(q, MultiDict([("acts", "b"), ("acts", "a")]))
    assert answers == {"acts": ["a", "b"]}  # questionnaire order
    assert score(q, answers) == {"participated": 1.0}


def test_scale_top_two_box_and_points_exclude_dont_know():
    q = q_("scale_dk.yaml")
    answers = {"s1": "5", "s2": "4", "s3": "dk", "s4": "2"}
    result = score(q, answers)
    assert result["satisfied"] == pytest.approx(2 / 3)
    assert result["satisfied.s3"] is None and result["satisfied.s4"] == 0.0
    assert result["score"] == pytest.approx((100 + 80 + 30) / 3)
    all_dk = score(q, dict.fromkeys(("s1", "s2", "s3", "s4"), "dk"))
    assert all_dk["satisfied"] is None and all_dk["score"] is None


def test_skip_logic_drops_hidden_answers():
    q = q_("skip_logic.yaml")
    form = MultiDict({"smoker": "n", "how_many": "20"})
    answers, errors = parse_answers(q, form, page_id="p1")
    assert answers == {"smoker": "n"} and errors == {}  # how_many hidden: ignored
    answers, errors = parse_answers(q, MultiDict({"smoker": "y"}), page_id="p1")
    assert errors == {"how_many": "请填写一个整数"}
    # Across pages: 'quit' shows only for smokers of 1-5 a day.
    shown = [x.id for x in visible_questions(q, {}, "p2", earlier={"smoker": "y", "how_many": 3})]
    assert shown == ["quit", "comment"]
    shown = [x.id for x in visible_questions(q, {}, "p2", earlier={"smoker": "y", "how_many": 30})]
    assert shown == ["comment"]
    answers, _ = parse_answers(q, MultiDict({"quit": "y"}), page_id="p2", earlier={"smoker": "n"})
    assert "quit" not in answers


def test_screening_messages():
    q = q_("screening.yaml")
    assert screen_out_reason(q, {"age": "young"}) == "默认的结束语"
    assert (
        screen_out_reason(q, {"age": "adult", "staff": "y"}) == "谢谢，本调查不面向环保部门员工。"
    )
    assert screen_out_reason(q, {"age": "adult", "staff": "n"}) is None


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        # Not digits (letters, 汉字, a unit): says so, then what is wanted.
        ("abc", "只能填写数字。请输入 0 到 100 之间的整数"),
        ("十二", "只能填写数字。请输入 0 到 100 之间的整数"),
        ("12年", "只能填写数字。请输入 0 到 100 之间的整数"),
        ("1e3", "只能填写数字。请输入 0 到 100 之间的整数"),
        # Numbers, but not whole ones in the range.
        ("101", "请输入 0 到 100 之间的整数"),
        ("-1", "请输入 0 到 100 之间的整数"),
        ("12.5", "请输入 0 到 100 之间的整数"),
        ("", "请填写一个整数"),
    ],
)
def test_integer_bounds(raw, error):
    q = q_("integer_text.yaml")
    _, errors = parse_answers(q, MultiDict({"years": raw}))
    assert errors["years"] == error


def test_text_is_stripped_limited_and_free_of_control_characters():
    q = q_("integer_text.yaml")
    answers, errors = parse_answers(q, MultiDict({"years": "3", "note": "  好  "}))
    assert answers == {"years": 3, "note": "好"} and not errors
    _, errors = parse_answers(q, MultiDict({"years": "3", "note": "太长了" * 5}))
    assert errors["note"] == "内容不能超过 10 字（当前 15 字）"
    _, errors = parse_answers(q, MultiDict({"years": "3", "note": "a\x00b"}))
    assert "无法识别的字符" in errors["note"]


def test_dynamic_district_options():
    q = standard_questionnaire()
    form = MultiDict({"district": "咸安区"})
    answers, errors = parse_answers(
        q, form, page_id="basic", dynamic_options={"districts": ["咸安区", "赤壁市"]}
    )
    assert answers["district"] == "咸安区" and "district" not in errors
    _, errors = parse_answers(
        q, MultiDict({"district": "北京"}), "basic", dynamic_options={"districts": ["咸安区"]}
    )
    assert errors["district"] == "选项无效，请重新选择"


def test_labels_for_exports():
    q = standard_questionnaire()
    labels = answers_to_labels(q, {"s_air": "4", "activities": ["sorting"], "years_here": 3})
    assert labels == {"s_air": "比较满意", "activities": ["垃圾分类"], "years_here": 3}
