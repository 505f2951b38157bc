"""Quota plans by district × 城乡 × sex × age group, and plans remade during
fieldwork: allocation, refusals, the resident's path under both policies,
places given back and taken in the right cell, the pages, and the counters
equal to the stored valid responses throughout."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from questionnaires import STANDARD_PATH, load_questionnaire_text
from survey.extensions import db
from survey.models import (
    AuditEvent,
    PopulationCell,
    QuotaCell,
    QuotaPlan,
    Response,
    Wave,
)
from survey.operations import quota_gate
from survey.operations.errors import OperationError
from survey.operations.frames import import_frame
from survey.operations.quality import set_excluded
from survey.operations.questionnaires import register_questionnaire
from survey.operations.quotas import make_plan, set_target
from survey.operations.responses import withdraw_response
from survey.paths import DEMO_DIR
from tests.conftest import form_tokens
from tests.resident import STANDARD_PAGES, channel_token, complete, start, submit_page
from tests.staff import log_in, make_user

#: The standard answers' cell (tests.resident.STANDARD_PAGES), without 城乡.
CELL = {"district": "咸安区", "sex": "男", "age_group": "30-39岁"}
FRAME = (DEMO_DIR / "xianning_frame.csv").read_text(encoding="utf-8")


def counters_match_stored(app, wave_id) -> None:
    """Every cell counts its valid stored responses (neither excluded nor
    withdrawn): those within the target as achieved, the others over quota; no
    cell holds more than its target; no valid response outside the plan's
    cells is counted over quota."""
    with app.app_context():
        cells = db.session.scalars(select(QuotaCell).filter_by(wave_id=wave_id)).all()
        assert cells
        by_urban_rural = any(cell.urban_rural for cell in cells)
        counted = 0
        for cell in cells:
            where = [
                Response.wave_id == wave_id,
                Response.excluded.is_(False),
                Response.district == cell.district,
                Response.sex == cell.sex,
                Response.age_group == cell.age_group,
            ]
            if by_urban_rural:
                where.append(Response.urban_rural == cell.urban_rural)
            stored = dict(
                db.session.execute(
                    select(Response.over_quota, func.count(Response.id))
                    .where(*where)
                    .group_by(Response.over_quota)
                ).all()
            )
            name = f"{cell.district}/{cell.urban_rural}/{cell.sex}/{cell.age_group}"
            assert (cell.achieved, cell.over_quota) == (
                stored.get(False, 0),
                stored.get(True, 0),
            ), name
            assert cell.achieved <= cell.target, name
            counted += cell.over_quota
        flagged = db.session.scalar(
            select(func.count(Response.id)).where(
                Response.wave_id == wave_id,
                Response.excluded.is_(False),
                Response.over_quota.is_(True),
            )
        )
        assert flagged == counted


def _wave(wave_id) -> Wave:
    return db.session.get(Wave, wave_id)


def _plan(app, wave_id, **kw) -> QuotaPlan:
    with app.app_context():
        return make_plan(_wave(wave_id), **kw)


def _cell(app, wave_id, urban_rural="", **cell):
    with app.app_context():
        return db.session.scalar(
            select(QuotaCell).filter_by(wave_id=wave_id, urban_rural=urban_rural, **(cell or CELL))
        )


def _set(app, wave_id, policy: str, targets: dict[str, int]) -> None:
    """The wave's policy and the targets of the standard cell's 城乡 cells."""
    with app.app_context(), db.write() as session:
        session.execute(update(Wave).where(Wave.id == wave_id).values(quota_policy=policy))
        for urban_rural, target in targets.items():
            session.execute(
                update(QuotaCell)
                .filter_by(wave_id=wave_id, urban_rural=urban_rural, **CELL)
                .values(target=target)
            )


def _state(app, wave_id, urban_rural) -> tuple[int, int, int]:
    cell = _cell(app, wave_id, urban_rural)
    return cell.target, cell.achieved, cell.over_quota


def _ids(app) -> list[int]:
    with app.app_context():
        return db.session.scalars(select(Response.id).order_by(Response.id)).all()


def first_page_answered(app, token, **answers) -> str:
    """What a new resident with these page-1 answers sees next."""
    client = app.test_client()
    first = start(client, token).get_data(as_text=True)
    return submit_page(client, token, first, {**STANDARD_PAGES[0], **answers}).get_data(
        as_text=True
    )


def told_full(app, token, **answers) -> bool:
    """Whether a new resident with these page-1 answers is told 名额已满 at page 1."""
    return "名额已满" in first_page_answered(app, token, **answers)


def _organizer(app):
    client = app.test_client()
    log_in(client, make_user(app, "org", "organizer"))
    return client


# ---------------------------------------------------------------- allocation


def test_plan_by_urban_rural_allocates_the_frame_to_finer_cells(app, demo_wave):
    plan = _plan(app, demo_wave, total=1200, min_per_district=150, by_urban_rural=True)
    assert plan.by_urban_rural and plan.total == 1200
    with app.app_context():
        assert db.session.get(QuotaPlan, demo_wave).by_urban_rural
        cells = db.session.scalars(select(QuotaCell).filter_by(wave_id=demo_wave)).all()
        population = {
            (c.district, c.urban_rural, c.sex, c.age_group): c.population
            for c in db.session.scalars(select(PopulationCell).filter_by(wave_id=demo_wave))
        }
    assert len(cells) == 6 * 2 * 2 * 5
    assert {c.urban_rural for c in cells} == {"城镇", "农村"}
    for district, size in plan.per_district.items():
        mine = [c for c in cells if c.district == district]
        assert sum(c.target for c in mine) == size
        district_population = sum(v for k, v in population.items() if k[0] == district)
        for c in mine:  # largest remainder: each target is its quota rounded down or up
            quota = size * population[(district, c.urban_rural, c.sex, c.age_group)]
            assert abs(c.target - quota / district_population) < 1


def test_default_plan_still_sums_urban_and_rural(app, demo_wave):
    plan = _plan(app, demo_wave, total=1200, min_per_district=150)
    assert not plan.by_urban_rural
    with app.app_context():
        kinds = db.session.scalars(
            select(QuotaCell.urban_rural).filter_by(wave_id=demo_wave).distinct()
        ).all()
        assert kinds == [""]
        assert db.session.scalar(select(func.count(QuotaCell.id))) == 6 * 2 * 5


def _frame_without_urban_rural() -> str:
    totals: dict[tuple, int] = {}
    for line in FRAME.splitlines()[1:]:
        district, sex, age, _, population = line.split(",")
        totals[(district, sex, age)] = totals.get((district, sex, age), 0) + int(population)
    rows = [",".join((*key, str(n))) for key, n in totals.items()]
    return "district,sex,age_group,population\n" + "\n".join(rows) + "\n"


def _snapshot(app, wave_id):
    with app.app_context():
        cells = db.session.execute(
            select(QuotaCell.id, QuotaCell.urban_rural, QuotaCell.target)
            .filter_by(wave_id=wave_id)
            .order_by(QuotaCell.id)
        ).all()
        plan = db.session.get(QuotaPlan, wave_id)
        events = db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="quota_plan"))
        return [tuple(c) for c in cells], (plan.total, plan.by_urban_rural), events


def test_refused_when_the_frame_has_no_urban_rural_split(app, demo_wave):
    with app.app_context():
        import_frame(_wave(demo_wave), _frame_without_urban_rural().encode(), "frame.csv")
    before = _snapshot(app, demo_wave)
    with app.app_context(), pytest.raises(OperationError, match="人口数据没有城乡"):
        make_plan(_wave(demo_wave), total=900, by_urban_rural=True)
    assert _snapshot(app, demo_wave) == before
    # The page says why, and nothing changes either.
    client = _organizer(app)
    url = f"/staff/waves/{demo_wave}/quotas"
    csrf = form_tokens(client.get(url).get_data(as_text=True))["csrf_token"]
    done = client.post(url + "/plan", data={"csrf_token": csrf, "mode": "total", "total": "900",
                                            "cells": "urban_rural"}, follow_redirects=True)  # fmt: skip
    assert "人口数据没有城乡（城镇/农村）分组" in done.get_data(as_text=True)
    assert _snapshot(app, demo_wave) == before
    result = app.test_cli_runner().invoke(
        args=["plan-quotas", "--wave-id", str(demo_wave), "--total", "900", "--by-urban-rural"]
    )
    assert result.exit_code != 0 and "人口数据没有城乡" in result.output
    assert _snapshot(app, demo_wave) == before


def test_refused_when_the_questionnaire_has_no_urban_rural_question(app, demo_wave):
    text = STANDARD_PATH.read_text(encoding="utf-8")
    start_at = text.index("      - id: urban_rural")
    end_at = text.index("\n\n", start_at)
    text = (text[:start_at] + text[end_at + 1 :]).replace("version: 1", "version: 2")
    with app.app_context():
        version = register_questionnaire(load_questionnaire_text(text))
        with db.write() as session:  # the frame (with 城乡) was imported before
            session.execute(
                update(Wave).where(Wave.id == demo_wave).values(questionnaire_id=version.id)
            )
    before = _snapshot(app, demo_wave)
    with app.app_context(), pytest.raises(OperationError, match="问卷没有城乡"):
        make_plan(_wave(demo_wave), total=900, by_urban_rural=True)
    assert _snapshot(app, demo_wave) == before


# ------------------------------------------------------ the resident's path


def test_close_policy_fills_an_urban_rural_cell_to_exactly_its_target(app, demo_wave):
    _plan(app, demo_wave, per_district={"咸安区": 300}, by_urban_rural=True)
    _set(app, demo_wave, "close", {"城镇": 2, "农村": 1})
    token = channel_token(app)
    assert complete(app.test_client(), token).status_code == 303
    # A resident past page 1 while the cell has room for one more ...
    late = app.test_client()
    page = submit_page(late, token, start(late, token).get_data(as_text=True), STANDARD_PAGES[0])
    page = submit_page(late, token, page.get_data(as_text=True), STANDARD_PAGES[1])
    assert page.status_code == 200
    # ... while another takes the last place:
    assert complete(app.test_client(), token).status_code == 303
    last = submit_page(late, token, page.get_data(as_text=True), STANDARD_PAGES[2])
    assert "名额已满" in last.get_data(as_text=True)  # refused by the submit writer
    assert "与您同区县、同城乡、同性别、同年龄段的受访者名额已满" in last.get_data(as_text=True)
    told = first_page_answered(app, token)  # one more is told at page 1, naming 城乡
    assert "与您同区县、同城乡、同性别、同年龄段的受访者名额已满" in told
    # The same district, sex and age group living in a village: the 农村 cell.
    assert not told_full(app, token, urban_rural="农村")
    assert complete(app.test_client(), token, urban_rural="农村").status_code == 303
    assert told_full(app, token, urban_rural="农村")
    with app.app_context():
        stored = dict(
            db.session.execute(
                select(Response.urban_rural, func.count(Response.id))
                .where(*(getattr(Response, k) == v for k, v in CELL.items()))
                .group_by(Response.urban_rural)
            ).all()
        )
    assert stored == {"城镇": 2, "农村": 1}
    assert _state(app, demo_wave, "城镇") == (2, 2, 0)
    assert _state(app, demo_wave, "农村") == (1, 1, 0)
    counters_match_stored(app, demo_wave)


def test_soft_policy_counts_over_quota_in_the_urban_rural_cell(app, demo_wave):
    _plan(app, demo_wave, per_district={"咸安区": 300}, by_urban_rural=True)
    _set(app, demo_wave, "soft", {"城镇": 1, "农村": 5})
    token = channel_token(app)
    for urban_rural in ("城镇", "城镇", "农村"):
        assert complete(app.test_client(), token, urban_rural=urban_rural).status_code == 303
    assert _state(app, demo_wave, "城镇") == (1, 1, 1)
    assert _state(app, demo_wave, "农村") == (5, 1, 0)
    counters_match_stored(app, demo_wave)


def _sub(wave_id, urban_rural):
    return SimpleNamespace(
        cells={**CELL, "urban_rural": urban_rural},
        channel=SimpleNamespace(wave=SimpleNamespace(id=wave_id, quota_policy="close")),
    )


def _reserve(app, subs):
    with app.app_context(), db.engine.connect() as conn, db.write_on(conn):
        return quota_gate.reserve_places(conn, subs)


def test_a_batch_takes_places_by_urban_rural_under_either_kind_of_plan(app, demo_wave):
    """The submit writer's batch (PostgreSQL: one statement for the cells with
    room): under a plan not by 城乡 a cell's 城镇 and 农村 residents share its
    places; under a plan by 城乡 each has its own cell."""
    _set(app, demo_wave, "close", {"": 3})
    subs = [_sub(demo_wave, u) for u in ("城镇", "农村", "城镇")]
    assert _reserve(app, subs) == ["ok", "ok", "ok"]
    assert _reserve(app, [_sub(demo_wave, "农村")]) == ["full"]
    assert _state(app, demo_wave, "") == (3, 3, 0)

    _plan(app, demo_wave, per_district={"咸安区": 300}, by_urban_rural=True)
    _set(app, demo_wave, "close", {"城镇": 1, "农村": 2})
    subs = [_sub(demo_wave, u) for u in ("城镇", "城镇", "农村", "农村", "农村")]
    assert _reserve(app, subs) == ["ok", "full", "ok", "ok", "full"]
    assert _state(app, demo_wave, "城镇") == (1, 1, 0)
    assert _state(app, demo_wave, "农村") == (2, 2, 0)
    # No 城乡 answer: no cell of a plan by 城乡 (every such cell is open).
    assert _reserve(app, [_sub(demo_wave, None)]) == ["ok"]


# ------------------------------------------- places given back and taken


def test_exclusion_restore_and_withdrawal_move_places_in_the_right_cell(app, demo_wave):
    _plan(app, demo_wave, per_district={"咸安区": 300}, by_urban_rural=True)
    _set(app, demo_wave, "soft", {"城镇": 1, "农村": 1})
    token = channel_token(app)
    for urban_rural in ("城镇", "农村", "农村"):
        assert complete(app.test_client(), token, urban_rural=urban_rural).status_code == 303
    town, village, village_over = _ids(app)
    assert _state(app, demo_wave, "农村") == (1, 1, 1)
    with app.app_context():
        # The 城镇 place goes back to its own cell: the 农村 response waiting
        # over quota stays over (it is not in that cell).
        set_excluded(town, True, "核查", wave_id=demo_wave)
    assert _state(app, demo_wave, "城镇") == (1, 0, 0)
    assert _state(app, demo_wave, "农村") == (1, 1, 1)
    counters_match_stored(app, demo_wave)
    with app.app_context():
        set_excluded(town, False, wave_id=demo_wave)
    assert _state(app, demo_wave, "城镇") == (1, 1, 0)
    with app.app_context():
        code = db.session.get(Response, village).receipt_code
        assert withdraw_response(code)  # its place goes to the 农村 response waiting
        assert not db.session.get(Response, village_over).over_quota
    assert _state(app, demo_wave, "农村") == (1, 1, 0)
    assert _state(app, demo_wave, "城镇") == (1, 1, 0)
    counters_match_stored(app, demo_wave)


# ------------------------------------------------- plans remade in fieldwork


def test_a_plan_remade_with_smaller_targets_recounts_the_stored_responses(app, demo_wave):
    """Remaking a plan kept each cell's old counts: a cell could count more
    places than its new target, and the responses beyond it were not over
    quota, so that excluding one freed a place that was not free."""
    _set(app, demo_wave, "close", {"": 10})
    token = channel_token(app)
    for _ in range(3):
        assert complete(app.test_client(), token).status_code == 303
    first, second, third = _ids(app)
    # 咸安区 sized so that the standard cell's target comes out at 1.
    _plan(app, demo_wave, per_district={"咸安区": 10, "赤壁市": 10})
    cell = _cell(app, demo_wave)
    assert cell.target == 1
    assert (cell.achieved, cell.over_quota) == (1, 2)
    with app.app_context():
        over = dict(db.session.execute(select(Response.id, Response.over_quota)).all())
    assert over == {first: False, second: True, third: True}
    counters_match_stored(app, demo_wave)
    with app.app_context():
        set_excluded(first, True, "核查", wave_id=demo_wave)  # the earliest waiting moves in
        assert not db.session.get(Response, second).over_quota
    counters_match_stored(app, demo_wave)
    told = first_page_answered(app, token)  # the cell is full under the close policy
    assert "与您同区县、同性别、同年龄段的受访者名额已满" in told


def test_counters_equal_stored_counts_through_submissions_exclusions_and_remade_plans(
    app, demo_wave
):
    """Concurrency-free: residents in several cells, an exclusion, a withdrawal,
    then the plan remade by 城乡 during fieldwork (the new cells count what is
    stored, in the same transaction, audited), more residents and exclusions,
    and the plan remade back without 城乡."""
    _set(app, demo_wave, "soft", {"": 2})
    token = channel_token(app)
    answers = [("城镇", "男"), ("农村", "男"), ("城镇", "男"), ("城镇", "女"), ("农村", "女")]
    for urban_rural, sex in answers:
        assert (
            complete(app.test_client(), token, urban_rural=urban_rural, sex=sex).status_code == 303
        )
    ids = _ids(app)
    counters_match_stored(app, demo_wave)
    with app.app_context():
        set_excluded(ids[0], True, "核查", wave_id=demo_wave)
        assert withdraw_response(db.session.get(Response, ids[3]).receipt_code)
    counters_match_stored(app, demo_wave)

    plan = _plan(app, demo_wave, per_district={"咸安区": 300}, by_urban_rural=True)
    assert plan.recounted == (3, 0)  # ids 1, 2, 4 are valid
    counters_match_stored(app, demo_wave)
    assert _cell(app, demo_wave, "城镇").achieved == 1
    assert _cell(app, demo_wave, "农村").achieved == 1
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).filter_by(action="quota_plan").order_by(AuditEvent.id.desc())
        )
        assert event.detail["cells"] == "区县 × 城乡 × 性别 × 年龄组"
        assert event.detail["recounted"] == 3 and event.detail["over_target"] == 0

    _set(app, demo_wave, "soft", {"城镇": 1})
    for _ in range(2):
        assert complete(app.test_client(), token).status_code == 303
    assert _state(app, demo_wave, "城镇") == (1, 1, 2)
    counters_match_stored(app, demo_wave)
    with app.app_context():
        set_excluded(ids[2], True, "核查", wave_id=demo_wave)  # 城镇, within: one moves in
        set_excluded(ids[2], False, wave_id=demo_wave)  # back, over quota now
    assert _state(app, demo_wave, "城镇") == (1, 1, 2)
    counters_match_stored(app, demo_wave)

    plan = _plan(app, demo_wave, per_district={"咸安区": 300})
    assert plan.recounted == (5, 0)
    counters_match_stored(app, demo_wave)
    assert _state(app, demo_wave, "")[1:] == (4, 0)


def test_the_page_remakes_a_plan_by_urban_rural_and_says_it_recounted(app, demo_wave):
    token = channel_token(app)
    for urban_rural in ("城镇", "农村"):
        assert complete(app.test_client(), token, urban_rural=urban_rural).status_code == 303
    client = _organizer(app)
    url = f"/staff/waves/{demo_wave}/quotas"
    page = client.get(url).get_data(as_text=True)
    assert 'name="cells" value="urban_rural"' in page
    csrf = form_tokens(page)["csrf_token"]
    done = client.post(url + "/plan", data={"csrf_token": csrf, "mode": "total", "total": "1200",
                                            "min_per_district": "150", "cells": "urban_rural"},
                       follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "配额已生成：共 1200 份（区县 × 城乡 × 性别 × 年龄组）" in done
    assert "已按现有有效答卷重新计数：2 份计入新的配额单元" in done
    assert "<th>城乡</th>" in done and "<td>农村</td>" in done
    assert 'value="urban_rural" checked' in done
    counters_match_stored(app, demo_wave)

    before = _snapshot(app, demo_wave)
    bad = client.post(url + "/plan", data={"csrf_token": csrf, "mode": "total", "total": "900",
                                           "cells": "village"}, follow_redirects=True)  # fmt: skip
    assert "配额单元的划分方式无效" in bad.get_data(as_text=True)
    no_token = client.post(url + "/plan", data={"mode": "total", "total": "900"})
    assert no_token.status_code == 400
    statistician = app.test_client()
    own = form_tokens(statistician.get("/staff/login").get_data(as_text=True))["csrf_token"]
    log_in(statistician, make_user(app, "stat", "statistician"))
    refused = statistician.post(url + "/plan", data={"csrf_token": own, "total": "900"})
    assert refused.status_code == 403
    assert _snapshot(app, demo_wave) == before


def test_cli_plans_by_urban_rural_and_says_it_recounted(app, runner, demo_wave):
    assert complete(app.test_client(), channel_token(app)).status_code == 303
    result = runner.invoke(args=["plan-quotas", "--wave-id", str(demo_wave), "--total", "1200",
                                 "--min-per-district", "150", "--by-urban-rural"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "配额单元：区县 × 城乡 × 性别 × 年龄组" in result.output and "合计 1200" in result.output
    assert "已按现有有效答卷重新计数：1 份" in result.output
    with app.app_context():
        assert db.session.get(QuotaPlan, demo_wave).by_urban_rural
        event = db.session.scalar(
            select(AuditEvent).filter_by(action="quota_plan", actor_name="cli")
        )
        assert event.detail["recounted"] == 1
    counters_match_stored(app, demo_wave)


# ------------------------------------------------------------------- pages


def test_dashboard_audit_and_report_show_the_urban_rural_dimension(app, demo_wave):
    _plan(app, demo_wave, per_district={"咸安区": 300}, by_urban_rural=True)
    assert complete(app.test_client(), channel_token(app), urban_rural="农村").status_code == 303
    client = _organizer(app)
    data = client.get(f"/staff/waves/{demo_wave}/dashboard.json").get_json()
    assert data["wave"]["by_urban_rural"] is True
    (xianan,) = [d for d in data["districts"] if d["district"] == "咸安区"]
    (village,) = [c for c in xianan["cells"] if c["achieved"]]
    assert (village["urban_rural"], village["sex"], village["age_group"]) == (
        "农村",
        "男",
        "30-39岁",
    )
    html = client.get(f"/staff/waves/{demo_wave}/dashboard").get_data(as_text=True)
    assert "各单元（区县 × 城乡 × 性别 × 年龄组）" in html and "<th>城乡</th>" in html

    cell = _cell(app, demo_wave, "农村")
    with app.app_context():
        set_target(cell.id, 9, wave_id=demo_wave)
        event = db.session.scalar(select(AuditEvent).filter_by(action="quota_change"))
        assert event.detail["cell"] == "咸安区/农村/男/30-39岁"
    admin = app.test_client()
    log_in(admin, make_user(app, "adm", "administrator"))
    audit = admin.get("/staff/audit").get_data(as_text=True)
    assert "咸安区/农村/男/30-39岁" in audit and "配额单元：区县 × 城乡 × 性别 × 年龄组" in audit

    from survey.report.content import build_content  # noqa: PLC0415

    with app.app_context():
        method = "\n".join(build_content(_wave(demo_wave)).method)
    assert "按区县 × 城乡 × 性别 × 年龄组设置配额" in method


def test_pages_escape_the_cells_labels(app, demo_wave):
    _plan(app, demo_wave, per_district={"咸安区": 300}, by_urban_rural=True)
    with app.app_context(), db.write() as session:
        session.execute(
            update(QuotaCell)
            .filter_by(wave_id=demo_wave, urban_rural="城镇", **CELL)
            .values(urban_rural="<b>城镇</b>")
        )
    client = _organizer(app)
    for url in (f"/staff/waves/{demo_wave}/quotas", f"/staff/waves/{demo_wave}/dashboard"):
        html = client.get(url).get_data(as_text=True)
        assert "&lt;b&gt;城镇&lt;/b&gt;" in html and "<b>城镇</b>" not in html, url
