"""Weighting: totals, collapsing, errors, trimming, separate margin tables."""

from __future__ import annotations

import re

import numpy as np
import pytest

from analysis import AnalysisError, estimate_domains
from analysis.frame import build_frame, encode
from analysis.weighting import poststratify_weights, rake_weights, trim_and_recalibrate

AGES = ["18-29岁", "30-39岁", "40-49岁"]


def _frame_rows():
    return [
        {"district": d, "sex": s, "age_group": a, "population": 100 * (i + 1) + (50 if s == "女" else 0)}
        for d in ("甲区", "乙县")
        for s in ("男", "女")
        for i, a in enumerate(AGES)
    ]  # fmt: skip


def _sample(drop=()):
    rng = np.random.default_rng(1)
    rows = []
    for d in ("甲区", "乙县"):
        for s in ("男", "女"):
            for a in AGES:
                if (d, s, a) in drop:
                    continue
                rows += [(d, s, a, int(rng.random() < 0.8)) for _ in range(int(rng.integers(3, 9)))]
    return rows


def _codes(rows, frame):
    d = encode([r[0] for r in rows], frame.domains, "district")
    m = [
        encode([r[i] for r in rows], frame.categories[v], v)
        for i, v in ((1, "sex"), (2, "age_group"))
    ]
    return d, m


def test_poststratification_reproduces_every_cell_total():
    frame = build_frame(_frame_rows(), "district", ["sex", "age_group"])
    rows = _sample()
    d, m = _codes(rows, frame)
    w = poststratify_weights(d, m, frame).weights
    for cell in _frame_rows():
        mask = [
            (r[0], r[1], r[2]) == (cell["district"], cell["sex"], cell["age_group"]) for r in rows
        ]
        assert w[np.array(mask)].sum() == pytest.approx(cell["population"], rel=1e-12)


def test_raking_reproduces_margins_and_district_totals():
    frame = build_frame(_frame_rows(), "district", ["sex", "age_group"])
    rows = _sample()
    d, m = _codes(rows, frame)
    result = rake_weights(d, m, frame)
    assert result.converged
    w = result.weights
    for j, var in enumerate(("sex", "age_group")):
        totals = frame.margin_totals(j)
        for di in range(2):
            for c in range(len(frame.categories[var])):
                assert w[(d == di) & (m[j] == c)].sum() == pytest.approx(totals[di, c], rel=1e-9)
    assert w[d == 0].sum() == pytest.approx(frame.domain_totals()[0])


def test_empty_cell_is_collapsed_and_reported():
    frame = build_frame(_frame_rows(), "district", ["sex", "age_group"])
    rows = _sample(drop={("甲区", "女", "40-49岁")})
    d, m = _codes(rows, frame)
    result = poststratify_weights(d, m, frame)
    n = sum(1 for r in rows if r[:3] == ("甲区", "女", "30-39岁"))
    assert result.collapsed == [f"甲区：女/30-39岁、女/40-49岁 合并（共 {n} 人）"]
    assert result.weights[d == 0].sum() == pytest.approx(frame.domain_totals()[0])
    # Users read the rule (the estimates page, the CLI): Chinese, no English sentence.
    assert "少于 1 人" in result.rule and "相邻类别合并" in result.rule
    assert not re.search("[A-Za-z]{2,}", result.rule)


def test_raking_collapses_an_empty_margin_category():
    frame = build_frame(_frame_rows(), "district", ["sex", "age_group"])
    rows = _sample(drop={("乙县", s, "18-29岁") for s in ("男", "女")})
    d, m = _codes(rows, frame)
    result = rake_weights(d, m, frame)
    assert "乙县：年龄组 18-29岁、30-39岁 合并（共 13 人）" in result.collapsed


def test_raking_without_collapsing_room_is_a_clear_error():
    frame = build_frame(_frame_rows(), "district", ["sex", "age_group"])
    rows = [r for r in _sample() if not (r[0] == "乙县" and r[1] == "女")]
    d, m = _codes(rows, frame)
    result = rake_weights(d, m, frame)  # sexes merged within 乙县: still possible
    assert any(c.startswith("乙县：性别 男、女 合并") for c in result.collapsed)
    only_men = [r for r in _sample() if r[1] == "男"]
    d, m = _codes(only_men, frame)
    frame2 = build_frame([r for r in _frame_rows()], "district", ["age_group", "sex"])
    d2 = encode([r[0] for r in only_men], frame2.domains, "district")
    m2 = [encode([r[2] for r in only_men], frame2.categories["age_group"], "age_group"),
          encode([r[1] for r in only_men], frame2.categories["sex"], "sex")]  # fmt: skip
    assert rake_weights(d2, m2, frame2).weights.sum() == pytest.approx(frame2.population.sum())


def test_separate_margin_tables_and_disagreeing_totals():
    margins = [
        {"district": "甲区", "sex": s, "age_group": "", "population": p}
        for s, p in (("男", 600), ("女", 750))
    ]
    margins += [
        {"district": "甲区", "sex": "", "age_group": a, "population": p}
        for a, p in zip(AGES, (400, 450, 500), strict=True)
    ]
    rows = [r for r in _sample() if r[0] == "甲区"]
    groups = {
        "district": [r[0] for r in rows],
        "sex": [r[1] for r in rows],
        "age_group": [r[2] for r in rows],
    }
    result = estimate_domains(groups, {"y": [r[3] for r in rows]}, margins)
    assert result.weights.sum() == pytest.approx(1350)
    bad = [dict(r) for r in margins]
    bad[0]["population"] = 700
    with pytest.raises(AnalysisError, match="margins disagree"):
        estimate_domains(groups, {"y": [r[3] for r in rows]}, bad)
    with pytest.raises(AnalysisError, match="full cross"):
        estimate_domains(groups, {"y": [r[3] for r in rows]}, margins, weighting="poststratify")


def test_trimming_caps_weights_and_keeps_totals_close():
    frame = build_frame(_frame_rows(), "district", ["sex", "age_group"])
    rows = _sample()
    d, m = _codes(rows, frame)
    raked = rake_weights(d, m, frame)
    cap = 1.5
    trimmed = trim_and_recalibrate(raked, d, upper=cap)
    for di in range(2):
        wd = trimmed.weights[d == di]
        assert wd.max() <= cap * wd.mean() * (1 + 1e-6)
        assert wd.sum() == pytest.approx(raked.weights[d == di].sum(), rel=0.05)
    assert trimmed.trimmed > 0


def test_no_weighting_gives_design_weights():
    result = estimate_domains(
        {"district": ["甲区"] * 4 + ["乙县"] * 2, "sex": ["男"] * 6, "age_group": ["18-29岁"] * 6},
        {"y": [1, 0, 1, 1, 0, 1]},
        [{"district": "甲区", "sex": "男", "age_group": "18-29岁", "population": 400},
         {"district": "乙县", "sex": "男", "age_group": "18-29岁", "population": 1000}],
        weighting="none",
    )  # fmt: skip
    assert list(result.weights) == [100.0] * 4 + [500.0] * 2
    assert result.row("ALL", "y").estimate == pytest.approx((3 * 100 + 500) / 1400)
