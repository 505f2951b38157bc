"""The loader validates a file completely; errors name file, question and problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from questionnaires import (
    STANDARD_PATH,
    QuestionnaireError,
    load_questionnaire,
    load_questionnaire_bytes,
    load_questionnaire_text,
    standard_questionnaire,
)

DATA = Path(__file__).parent / "data"

BAD = {
    "unknown_type.yaml": ("q1", "未知的题型 'slider'"),
    "duplicate_id.yaml": ("q1", "题目 id 重复"),
    "duplicate_id_scored.yaml": ("s_air", "同时用于第 1 页第 1 题和第 2 页第 1 题"),
    "option_without_label.yaml": ("q1", "缺少 label"),
    "skip_to_missing.yaml": ("q2", "show_if 指向不存在的题目 q9"),
    "skip_bad_value.yaml": ("q2", "不存在的选项值 zzz"),
    "scoring_missing_item.yaml": (None, "计分题目 q_missing 不存在"),
    "scoring_bad_value.yaml": (None, "positive 中的选项值 9"),
    "integer_bounds.yaml": ("q1", "min（10）大于 max（1）"),
    "role_twice.yaml": ("q2", "role sex 已由题目 q1 使用"),
    "exclusive_on_single.yaml": ("q1", "exclusive（互斥）只能用于多选题"),
    "yaml_syntax.yaml": (None, "YAML 格式错误"),
    "unknown_key.yaml": ("q1", "第 1 页第 1 题（id: q1）含有不认识的键：colour"),
    "empty_text.yaml": ("s_noise", "第 1 页第 5 题（id: s_noise）的 text（题目文字）不能为空"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_is_rejected_with_a_precise_message(name):
    question, fragment = BAD[name]
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(DATA / "bad" / name)
    problems = info.value.problems
    assert all(p.file == name for p in problems)
    matching = [p for p in problems if fragment in p.message]
    assert matching, f"{fragment!r} not in {[str(p) for p in problems]}"
    if question:
        assert matching[0].question == question
        # Semantic problems are prefixed with the question; schema problems name
        # page, question number and id in the sentence itself.
        assert f"{name}: 题目 {question}: " in str(info.value) or (
            f"{name}: 第 " in str(info.value) and f"（id: {question}）" in str(info.value)
        )


def test_every_problem_is_reported_at_once():
    text = (DATA / "bad" / "duplicate_id.yaml").read_text(encoding="utf-8")
    text = text.replace("type: single_choice, text: 二", "type: bogus, text: 二")
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire_text(text, "two.yaml")
    messages = " | ".join(p.message for p in info.value.problems)
    assert "题目 id 重复" in messages and "未知的题型" in messages


@pytest.mark.parametrize("path", sorted(DATA.glob("*.yaml")), ids=lambda p: p.name)
def test_feature_questionnaires_load(path):
    q = load_questionnaire(path)
    assert q.questions and q.indicators


def test_standard_questionnaire_has_roles_and_indicators():
    q = standard_questionnaire()
    assert q.id == "eco-satisfaction-standard" and q.version == 1
    assert set(q.roles) == {"district", "sex", "age_group", "urban_rural"}
    assert q.headline == {"satisfaction": "satisfied", "participation": "participated"}
    assert {"satisfied", "participated", "satisfaction_score", "aware"} <= set(q.indicators)
    satisfaction_items = q.indicator("satisfied").items
    assert len(satisfaction_items) == 7


def test_content_hash_ignores_comments_and_layout_but_not_text():
    text = STANDARD_PATH.read_text(encoding="utf-8")
    original = load_questionnaire_text(text).content_hash
    reformatted = "# a new comment\n" + text.replace("title: 基本情况", "title:   基本情况")
    assert load_questionnaire_text(reformatted).content_hash == original
    changed = text.replace("您对本地空气质量是否满意？", "您对本地空气质量满意吗？")
    assert load_questionnaire_text(changed).content_hash != original


def test_non_mapping_file_is_rejected():
    with pytest.raises(QuestionnaireError, match="问卷定义"):
        load_questionnaire_text("- just\n- a list\n", "list.yaml")


# --- File encodings: Notepad/WPS on Chinese Windows often save GBK (part of GB18030).


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8-sig", "utf-8"])
def test_file_saved_as_gb18030_gbk_or_utf8_loads_identically(tmp_path, encoding):
    source = DATA / "single_choice.yaml"
    expected = load_questionnaire(source)
    saved = tmp_path / f"{encoding}.yaml"
    saved.write_bytes(source.read_text(encoding="utf-8").encode(encoding))
    q = load_questionnaire(saved)
    assert q.content_hash == expected.content_hash
    assert q.question("color").options[0].label == "红"


def test_bytes_loader_accepts_gb18030_like_the_file_loader():
    text = (DATA / "single_choice.yaml").read_text(encoding="utf-8")
    q = load_questionnaire_bytes(text.encode("gb18030"), "upload.yaml")
    assert q.question("pet").text == "宠物"


def test_undecodable_file_is_refused_with_a_chinese_hint(tmp_path):
    saved = tmp_path / "utf16.yaml"
    saved.write_bytes("id: t\n标题".encode("utf-16"))  # Notepad's "Unicode"
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(saved)
    assert str(info.value).startswith("utf16.yaml: 文件编码无法识别")
    assert "UTF-8" in str(info.value) and "codec" not in str(info.value)


def test_missing_file_is_reported_in_chinese(tmp_path):
    with pytest.raises(QuestionnaireError, match="找不到这个文件"):
        load_questionnaire(tmp_path / "nope.yaml")


def test_duplicate_id_is_reported_alone_with_both_places():
    """Scoring and show_if checks would look at the wrong s_air and report
    follow-on errors ("计分题目必须是量表题" ...) that hide the real problem."""
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(DATA / "bad" / "duplicate_id_scored.yaml")
    problems = info.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    assert problems[0].question == "s_air"
    assert problems[0].message.startswith(
        "题目 id 重复：s_air 同时用于第 1 页第 1 题和第 2 页第 1 题"
    )
    assert "量表" not in str(info.value)


def test_duplicate_id_comes_first_and_other_question_checks_still_run():
    text = """
id: t-dup
version: 1
title: 重复
pages:
  - id: p1
    title: 第一页
    questions:
      - {id: q0, type: bogus, text: 一}
      - {id: q1, type: single_choice, text: 二, options: [{value: a, label: A}, {value: b, label: B}]}
      - {id: q1, type: text, text: 三}
scoring:
  x: {method: yes_no, item: q1, positive: [a]}
"""
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire_text(text, "dup.yaml")
    messages = [p.message for p in info.value.problems]
    assert len(messages) == 2, messages
    assert messages[0].startswith("题目 id 重复：q1 同时用于第 1 页第 2 题和第 1 页第 3 题")
    assert "未知的题型 'bogus'" in messages[1]


# --- Schema problems in Chinese, naming the place as organizers see it.

ENGLISH = re.compile(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+")  # jsonschema's sentences


def _schema_problems_of(text: str) -> list:
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire_text(text, "t.yaml")
    return info.value.problems


def test_empty_text_names_page_question_id_and_line_in_chinese():
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(DATA / "bad" / "empty_text.yaml")
    (problem,) = info.value.problems
    assert str(problem) == (
        "empty_text.yaml: 第 1 页第 5 题（id: s_noise）的 text（题目文字）不能为空，请填写。"
        "（第 15 行，pages.0.questions.4.text）"
    )
    assert problem.question == "s_noise" and problem.line == 15


SINGLE = (DATA / "single_choice.yaml").read_text(encoding="utf-8")

SCHEMA_CASES = {
    "required": (
        SINGLE.replace("        text: 宠物\n", ""),
        "第 1 页第 2 题（id: pet）缺少 text（题目文字），请补上",
    ),
    "type": (
        SINGLE.replace("required: false", "required: 否"),
        "第 1 页第 2 题（id: pet）的 required（是否必答）应是true 或 false，现在是文字“否”",
    ),
    "type_yes_unquoted": (
        SINGLE.replace("value: red", "value: yes"),
        "第 1 页第 1 题（id: color）的第 1 个选项的 value（选项值）应是文字或整数，"
        "现在是true/false（true）。YAML 会把不加引号的 yes/no/on/off/true/false 当作是/否",
    ),
    "enum": (
        SINGLE.replace("        required: false\n", "        options_from: cities\n"),
        "第 1 页第 2 题（id: pet）的 options_from（系统提供的选项）只能是 districts",
    ),
    "additionalProperties": (
        SINGLE.replace("        text: 宠物", "        txet: 宠物"),
        "第 1 页第 2 题（id: pet）含有不认识的键：txet（“txet”是不是想写“text”）",
    ),
    "pattern": (
        SINGLE.replace("id: t-single", "id: T_single"),
        "id（问卷标识）格式不对：只能用小写英文字母、数字和连字符（-）",
    ),
    "page_pattern": (
        SINGLE.replace("id: p1", "id: Page1"),
        "第 1 页（id: Page1）的 id（页面标识）格式不对",
    ),
    "minItems": (
        SINGLE.replace("positive: [green]", "positive: []"),
        "计分指标 likes_green 的 positive（计为正面的选项值）不能是空的，至少需要 1 项",
    ),
    "minimum": (SINGLE.replace("version: 1", "version: 0"), "version（版本号）不能小于 1"),
    "top_level_required": (
        SINGLE.replace("title: 单选题\n", ""),
        "t.yaml: 问卷缺少 title（问卷标题），请补上",
    ),
}


@pytest.mark.parametrize("kind", sorted(SCHEMA_CASES))
def test_schema_problems_are_chinese_and_say_where(kind):
    text, expected = SCHEMA_CASES[kind]
    problems = _schema_problems_of(text)
    shown = [str(p) for p in problems]
    assert any(expected in s for s in shown), shown
    for problem in problems:
        sentence = problem.message.rsplit("（", 1)[0]  # the technical path may follow
        assert not ENGLISH.search(sentence), problem.message
        assert problem.line is not None


def test_schema_problems_are_listed_in_file_order():
    text = SINGLE.replace("version: 1", "version: 0").replace("text: 宠物", "text: ''")
    text = text.replace("id: t-single", "id: T")
    lines = [p.line for p in _schema_problems_of(text)]
    assert lines == sorted(lines) and len(lines) == 3


# --- Warnings: valid, loaded, but worth a look (printed by the load command).


def test_questionnaire_without_any_chinese_loads_with_a_warning():
    q = load_questionnaire(DATA / "english_only.yaml")
    assert q.questions  # not refused: translation tests are legitimate
    (warning,) = q.warnings
    assert str(warning).startswith("english_only.yaml: 题目文字和选项中没有一个汉字")


@pytest.mark.parametrize(
    "path",
    [STANDARD_PATH, *sorted(p for p in DATA.glob("*.yaml") if p.name != "english_only.yaml")],
    ids=lambda p: p.name,
)
def test_chinese_questionnaires_have_no_warnings(path):
    assert load_questionnaire(path).warnings == ()


def test_one_chinese_option_is_enough_to_not_warn():
    text = (DATA / "english_only.yaml").read_text(encoding="utf-8")
    assert load_questionnaire_text(text.replace("Don't know", "说不清")).warnings == ()


# --- The time residents are told: one rule for the landing page and the posters.


def test_the_standard_questionnaire_states_the_time_of_its_intro():
    """Its posters said 约 4 分钟 (estimated_minutes) while its intro says 3–5 分钟."""
    assert load_questionnaire(STANDARD_PATH).stated_time == "3–5 分钟"


@pytest.mark.parametrize(
    ("intro", "minutes", "stated"),
    [
        ("", 6, "6 分钟"),  # no time in the intro: estimated_minutes
        ("欢迎参加。", None, "5 分钟"),  # neither: the format's default
        ("大约需要5分钟。", 5, "5分钟"),
        ("约 3至6 分钟", 4, "3至6 分钟"),
        ("大约五分钟即可完成", 5, "五分钟"),
    ],
)
def test_the_stated_time_is_the_intros_or_else_estimated_minutes(intro, minutes, stated):
    text = SINGLE.replace("title: 单选题", f"title: 单选题\nintro: '{intro}'")
    if minutes is not None:
        text = text.replace("title: 单选题", f"title: 单选题\nestimated_minutes: {minutes}")
    q = load_questionnaire_text(text, "t.yaml")
    assert q.stated_time == stated
    assert q.warnings == ()


@pytest.mark.parametrize(("intro", "minutes"), [("大约需要 3–5 分钟", 8), ("约10分钟", 5)])
def test_an_intro_time_unlike_estimated_minutes_loads_with_a_warning(intro, minutes):
    text = SINGLE.replace("title: 单选题", f"title: 单选题\nintro: '{intro}'")
    text = text.replace("title: 单选题", f"title: 单选题\nestimated_minutes: {minutes}")
    q = load_questionnaire_text(text, "t.yaml")
    (warning,) = q.warnings
    assert f"与 estimated_minutes（{minutes} 分钟）不一致" in str(warning)
