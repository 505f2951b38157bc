"""survey-estimate: outputs, Chinese labels, and bad input (exit 2, nothing written)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli import main

DATA = Path(__file__).parent / "data"
COLUMNS = "domain,indicator,n,estimate,se,ci_low,ci_high,ci_method,deff,n_eff,df,target,status"


@pytest.fixture
def chinese_city(tmp_path):
    """A small city with Chinese labels, written with a BOM as Excel does."""
    responses = tmp_path / "答卷.csv"
    population = tmp_path / "人口.csv"
    rows = ["respondent_id,区县,district,sex,age_group,satisfied,participated"]
    rid = 0
    for d in ("咸安区", "嘉鱼县"):
        for s in ("男", "女"):
            for a in ("18-29岁", "30-39岁", "60岁及以上"):
                for k in range(6):
                    rid += 1
                    rows.append(f"r{rid},{d},{d},{s},{a},{int(k % 3 != 0)},{int(k != 1)}")
    responses.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    pop = ["district,sex,age_group,population"]
    for d, base in (("咸安区", 1000), ("嘉鱼县", 600)):
        for s in ("男", "女"):
            for i, a in enumerate(("18-29岁", "30-39岁", "60岁及以上")):
                pop.append(f"{d},{s},{a},{base + 100 * i}")
    population.write_text("\n".join(pop) + "\n", encoding="utf-8-sig")
    return responses, population


def test_csv_output_with_chinese_labels_and_weights(chinese_city, tmp_path):
    responses, population = chinese_city
    out, weights = tmp_path / "est.csv", tmp_path / "w.csv"
    code = main([str(responses), "--population", str(population), "--output", str(out),
                 "--weights-output", str(weights), "--ci", "beta"])  # fmt: skip
    assert code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == COLUMNS
    rows = list(csv.DictReader(lines))
    assert [r["domain"] for r in rows] == ["咸安区", "嘉鱼县", "ALL"] * 2
    assert {r["status"] for r in rows} <= {"达标", "未达标", "待定"}
    assert all(r["ci_method"] == "beta" for r in rows)
    all_sat = next(r for r in rows if r["domain"] == "ALL" and r["indicator"] == "satisfied")
    assert int(all_sat["df"]) == 72 - 2
    w = list(csv.DictReader(weights.read_text(encoding="utf-8").splitlines()))
    assert len(w) == 72
    assert sum(float(r["weight"]) for r in w) == pytest.approx(2 * (1100 * 3) + 2 * (700 * 3))


def test_json_output_has_diagnostics(chinese_city, tmp_path):
    responses, population = chinese_city
    out = tmp_path / "est.json"
    assert main([str(responses), "--population", str(population), "--format", "json",
                 "--output", str(out), "--weighting", "poststratify"]) == 0  # fmt: skip
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["weighting"]["method"] == "poststratify"
    assert data["weighting"]["kish_deff"] >= 1
    assert len(data["rows"]) == 6


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda r, p: r.replace("respondent_id,", "id,"), "respondent_id"),
        (lambda r, p: r.replace("r5,咸安区,咸安区,", "r5,咸安区,武汉市,"), "'武汉市'"),
        (lambda r, p: r.replace(",1,1\n", ",yes,1\n", 1), "'yes' is not a number"),
        (lambda r, p: p.replace("咸安区,男,18-29岁,1000", "咸安区,男,18-29岁,-5"), "non-negative"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(chinese_city, tmp_path, capsys, edit, fragment):
    responses, population = chinese_city
    r_text = responses.read_text(encoding="utf-8-sig")
    p_text = population.read_text(encoding="utf-8-sig")
    responses.write_text(edit(r_text, p_text) if "respondent" in fragment or "武汉" in fragment
                         or "yes" in fragment else r_text, encoding="utf-8")  # fmt: skip
    if "non-negative" in fragment:
        population.write_text(edit(r_text, p_text), encoding="utf-8")
    out = tmp_path / "never.csv"
    code = main([str(responses), "--population", str(population), "--output", str(out)])
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert fragment in err


def test_empty_district_is_a_clear_error(chinese_city, tmp_path, capsys):
    responses, population = chinese_city
    text = population.read_text(encoding="utf-8-sig") + "通山县,男,18-29岁,500\n"
    population.write_text(text, encoding="utf-8")
    assert main([str(responses), "--population", str(population)]) == 2
    assert "通山县" in capsys.readouterr().err


def test_help_and_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "--help"], capture_output=True, text=True, check=True
    )
    assert "--weighting" in result.stdout and "达标" in result.stdout


def test_reference_city_through_the_cli_matches_library(tmp_path):
    out = tmp_path / "e.csv"
    assert main([str(DATA / "city4_responses.csv"), "--population",
                 str(DATA / "city4_population.csv"), "--output", str(out)]) == 0  # fmt: skip
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 10  # 4 districts + ALL, two indicators


def test_malformed_csv_is_reported(chinese_city, tmp_path, capsys):
    responses, population = chinese_city
    responses.write_text(
        responses.read_text(encoding="utf-8-sig") + "r999,咸安区,咸安区,男,18-29岁,1,1,extra\n",
        encoding="utf-8",
    )
    assert main([str(responses), "--population", str(population)]) == 2
    assert "CSV" in capsys.readouterr().err


def test_empty_margin_category_without_collapsing_is_an_error(chinese_city, tmp_path, capsys):
    responses, population = chinese_city
    kept = [line for line in responses.read_text(encoding="utf-8-sig").splitlines()
            if not ("嘉鱼县" in line and "60岁及以上" in line)]  # fmt: skip
    responses.write_text("\n".join(kept) + "\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    assert main([str(responses), "--population", str(population), "--no-collapse",
                 "--output", str(out)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "嘉鱼县" in err and "60岁及以上" in err and not out.exists()
    assert main([str(responses), "--population", str(population), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "合并单元：嘉鱼县：年龄组 30-39岁、60岁及以上 合并（共 12 人）" in err
    assert "合并规则：同一区县内" in err and "加权：边际迭代（raking），迭代" in err


def test_a_stray_value_in_a_0_1_column_is_an_error(chinese_city, tmp_path, capsys):
    """One participated=2 made every participated row a 0-100 score (ci_method t,
    target 80.0, every district 未达标) and the old code exited 0."""
    responses, population = chinese_city
    lines = responses.read_text(encoding="utf-8-sig").splitlines()
    assert lines[9].endswith(",1,1")
    lines[9] = lines[9][: -len(",1,1")] + ",1,2"  # line 10 of the file
    responses.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "never.csv"
    assert main([str(responses), "--population", str(population), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "“participated”" in err and "第 10 行为 2" in err and "--score participated" in err
    assert not out.exists()
    # Stating it a proportion does not make 2 one.
    args = [str(responses), "--population", str(population), "--output", str(out)]
    assert main([*args, "--proportion", "participated"]) == 2
    assert "第 10 行为 2" in capsys.readouterr().err and not out.exists()


def test_indicator_kinds_can_be_stated(chinese_city, tmp_path, capsys):
    responses, population = chinese_city
    out = tmp_path / "e.csv"
    args = [str(responses), "--population", str(population), "--output", str(out)]
    assert main([*args, "--score", "participated"]) == 0
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    part = [r for r in rows if r["indicator"] == "participated"]
    assert {(r["ci_method"], r["target"]) for r in part} == {("t", "80.0")}
    assert {r["ci_method"] for r in rows if r["indicator"] == "satisfied"} == {"logit"}
    capsys.readouterr()
    assert main([*args, "--score", "age"]) == 2
    assert "“age”不在 --indicators 中" in capsys.readouterr().err
    assert main([*args, "--score", "satisfied", "--proportion", "satisfied"]) == 2


def test_gb18030_files_are_read(chinese_city, tmp_path):
    """What Excel on Chinese Windows writes; the old code said 'not UTF-8' (exit 2)."""
    responses, population = chinese_city
    for path in (responses, population):
        path.write_bytes(path.read_text(encoding="utf-8-sig").encode("gb18030"))
    out = tmp_path / "e.csv"
    assert main([str(responses), "--population", str(population), "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert [r["domain"] for r in rows] == ["咸安区", "嘉鱼县", "ALL"] * 2


def test_unreadable_encoding_is_reported(chinese_city, capsys):
    responses, population = chinese_city
    responses.write_bytes(responses.read_bytes() + b"r999,\xff\xff,\xff\xff,1,1,1,1\n")
    assert main([str(responses), "--population", str(population)]) == 2
    assert "UTF-8 或 GB18030" in capsys.readouterr().err


def test_duplicate_population_cell_is_an_error(chinese_city, tmp_path, capsys):
    """The old code added the two rows up (咸安区's young men counted twice)."""
    responses, population = chinese_city
    text = population.read_text(encoding="utf-8-sig")
    assert text.splitlines()[1] == "咸安区,男,18-29岁,1000" and len(text.splitlines()) == 13
    population.write_text(text + "咸安区,男,18-29岁,1000\n", encoding="utf-8")
    out = tmp_path / "never.csv"
    assert main([str(responses), "--population", str(population), "--output", str(out)]) == 2
    assert "第 14 行与第 2 行重复（咸安区、男、18-29岁）" in capsys.readouterr().err
    assert not out.exists()


def test_cells_split_by_an_unweighted_column_are_added_up(chinese_city, tmp_path):
    responses, population = chinese_city
    lines = population.read_text(encoding="utf-8-sig").splitlines()
    split = [lines[0].replace(",population", ",urban_rural,population")]
    for line in lines[1:]:
        cell, number = line.rsplit(",", 1)
        split += [f"{cell},城镇,{int(number) - 100}", f"{cell},乡村,100"]
    population.write_text("\n".join(split) + "\n", encoding="utf-8")
    weights = tmp_path / "w.csv"
    assert main([str(responses), "--population", str(population),
                 "--weights-output", str(weights), "--output", str(tmp_path / "e.csv")]) == 0  # fmt: skip
    w = list(csv.DictReader(weights.read_text(encoding="utf-8").splitlines()))
    assert sum(float(r["weight"]) for r in w) == pytest.approx(2 * (1100 * 3) + 2 * (700 * 3))


def test_weighting_cells_of_one_or_two_are_warned_of(chinese_city, tmp_path, capsys):
    """The estimates page warns of weighting cells of 1–2 respondents (each adds
    next to no variance, so intervals come out too narrow); the command said
    nothing. It now says how many there are and how to merge them."""
    responses, population = chinese_city
    lines = responses.read_text(encoding="utf-8-sig").splitlines()
    two_per_cell = [lines[0], *(line for i, line in enumerate(lines[1:]) if i % 6 < 2)]
    responses.write_text("\n".join(two_per_cell) + "\n", encoding="utf-8")
    args = [str(responses), "--population", str(population), "--weighting", "poststratify",
            "--output", str(tmp_path / "est.csv")]  # fmt: skip
    assert main(args) == 0
    said = capsys.readouterr().err
    assert "注意：有 12 个加权单元只有 1–2 名受访者" in said and "--min-cell 5" in said
    assert main([*args, "--min-cell", "3"]) == 0
    assert "名受访者" not in capsys.readouterr().err
