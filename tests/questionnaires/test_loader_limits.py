"""A questionnaire file built to exhaust the loader (aliases that expand
exponentially, nesting deeper than Python's recursion) is refused with a clear
Chinese message, quickly.

Nine levels of nine aliases each ("billion laughs") took 2 s at seven levels and
nine times longer for each further one (validation walks the expanded tree);
nesting 5,000 brackets deep crashed ``survey load-questionnaire`` with a
RecursionError traceback.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaires import QuestionnaireError, load_questionnaire, load_questionnaire_text

STANDARD = Path(__file__).parents[2] / "questionnaires" / "standard.yaml"


def laughs(levels: int) -> str:
    lines = ['a0: &a0 ["哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join([*lines, f"id: x\npages: *a{levels - 1}"])


def _refusal(text: str) -> str:
    began = time.monotonic()
    with pytest.raises(QuestionnaireError) as refused:
        load_questionnaire_text(text, "hostile.yaml")
    assert time.monotonic() - began < 5
    (problem,) = refused.value.problems
    assert problem.file == "hostile.yaml"
    return problem.message


def test_aliases_that_expand_beyond_any_questionnaire_are_refused():
    assert "别名" in _refusal(laughs(9))  # 387 million values once expanded


@pytest.mark.parametrize(
    "text", ["a: " + "[" * 5000 + "]" * 5000, "[" * 100_000, "{a: " * 3000 + "1" + "}" * 3000]
)
def test_nesting_deeper_than_any_questionnaire_is_refused(text):
    assert "嵌套" in _refusal(text)


@settings(max_examples=12, deadline=None)
@given(depth=st.integers(1, 1500), kind=st.sampled_from(["[", "{k: ", "- "]))
def test_any_nesting_is_a_questionnaire_error_never_a_crash(depth, kind):
    if kind == "- ":
        text = "\n".join("  " * i + "-" for i in range(depth)) + " x"
    else:
        close = "]" if kind == "[" else "}"
        text = kind * depth + "1" + close * depth
    with pytest.raises(QuestionnaireError):
        load_questionnaire_text(text, "deep.yaml")


def test_the_standard_questionnaire_with_its_aliases_still_loads():
    assert load_questionnaire(STANDARD).pages
