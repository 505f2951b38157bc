"""Editing one quota cell's target during fieldwork: the cell's valid responses
are counted again against the new target, as a remade plan counts them."""

from __future__ import annotations

from sqlalchemy import select

from survey.extensions import db
from survey.models import AuditEvent, QuotaCell, Response
from survey.operations.quality import set_excluded
from survey.operations.quotas import set_target
from tests.app.test_quota_urban_rural import (
    CELL,
    _ids,
    _organizer,
    _plan,
    _set,
    _state,
    counters_match_stored,
    first_page_answered,
)
from tests.conftest import form_tokens
from tests.resident import channel_token, complete


def _cell_id(app, wave_id, urban_rural="") -> int:
    with app.app_context():
        return db.session.scalar(
            select(QuotaCell.id).filter_by(wave_id=wave_id, urban_rural=urban_rural, **CELL)
        )


def _over(app) -> dict[int, bool]:
    with app.app_context():
        return dict(db.session.execute(select(Response.id, Response.over_quota)).all())


def test_a_lowered_target_counts_the_responses_beyond_it_over_quota(app, demo_wave):
    """The cell kept counting 3 places for a target of 1 (none over quota): the
    dashboard said 3 / 1 and the exports flagged no one."""
    _set(app, demo_wave, "close", {"": 5})
    token = channel_token(app)
    for _ in range(3):
        assert complete(app.test_client(), token).status_code == 303
    first, second, third = _ids(app)
    with app.app_context():
        cell = set_target(_cell_id(app, demo_wave), 1, wave_id=demo_wave)
        assert (cell.achieved, cell.over_quota) == (1, 2)
        event = db.session.scalar(select(AuditEvent).filter_by(action="quota_change"))
        assert event.detail["old"] == 5 and event.detail["new"] == 1
        assert event.detail["over_quota"] == 2
    assert _state(app, demo_wave, "") == (1, 1, 2)
    assert _over(app) == {first: False, second: True, third: True}
    counters_match_stored(app, demo_wave)
    with app.app_context():  # the earliest waiting takes the place given back
        set_excluded(first, True, "核查", wave_id=demo_wave)
    assert _over(app)[second] is False
    counters_match_stored(app, demo_wave)
    assert "名额已满" in first_page_answered(app, token)


def test_a_raised_target_gives_places_to_the_responses_waiting_over_quota(app, demo_wave):
    """Raised from 1 to 3 under the soft policy, the cell had room while its
    second and third responses stayed flagged over quota, and the next two
    residents took the places instead."""
    _set(app, demo_wave, "soft", {"": 1})
    token = channel_token(app)
    for _ in range(3):
        assert complete(app.test_client(), token).status_code == 303
    first, second, third = _ids(app)
    assert _state(app, demo_wave, "") == (1, 1, 2)
    with app.app_context():
        set_target(_cell_id(app, demo_wave), 3, wave_id=demo_wave)
    assert _state(app, demo_wave, "") == (3, 3, 0)
    assert not any(_over(app).values())
    counters_match_stored(app, demo_wave)
    assert complete(app.test_client(), token).status_code == 303  # soft: stored, over
    assert _state(app, demo_wave, "") == (3, 3, 1)
    counters_match_stored(app, demo_wave)


def test_a_target_of_an_urban_rural_cell_counts_only_its_own_responses(app, demo_wave):
    _plan(app, demo_wave, per_district={"咸安区": 300}, by_urban_rural=True)
    _set(app, demo_wave, "soft", {"城镇": 5, "农村": 5})
    token = channel_token(app)
    for urban_rural in ("城镇", "农村", "城镇", "农村"):
        assert complete(app.test_client(), token, urban_rural=urban_rural).status_code == 303
    with app.app_context():
        set_target(_cell_id(app, demo_wave, "城镇"), 1, wave_id=demo_wave)
    assert _state(app, demo_wave, "城镇") == (1, 1, 1)
    assert _state(app, demo_wave, "农村") == (5, 2, 0)
    counters_match_stored(app, demo_wave)


def test_the_quotas_page_says_how_many_are_over_the_new_target(app, demo_wave):
    _set(app, demo_wave, "close", {"": 5})
    token = channel_token(app)
    for _ in range(3):
        assert complete(app.test_client(), token).status_code == 303
    client = _organizer(app)
    page = client.get(f"/staff/waves/{demo_wave}/quotas").get_data(as_text=True)
    cell_id = _cell_id(app, demo_wave)
    response = client.post(
        f"/staff/waves/{demo_wave}/quotas/{cell_id}",
        data={**form_tokens(page), "target": "2"},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "配额已修改。该单元有 1 份有效答卷超出目标，计为超额。" in text
    audit = client.get("/staff/audit").get_data(as_text=True)
    assert "超出目标的有效答卷：1" in audit


def test_the_outcome_of_a_cells_edit_is_shown_in_its_row(app, demo_wave):
    """After 修改 the page scrolls to the cell (#cell-<id>), while the outcome,
    with its over-quota note, was flashed at the top of the page, out of sight
    in a plan of many cells: it is shown in the cell's row now (role=status),
    and not again at the top."""
    import re

    _set(app, demo_wave, "close", {"": 5})
    token = channel_token(app)
    for _ in range(3):
        assert complete(app.test_client(), token).status_code == 303
    client = _organizer(app)
    page = client.get(f"/staff/waves/{demo_wave}/quotas").get_data(as_text=True)
    cell_id = _cell_id(app, demo_wave)
    response = client.post(f"/staff/waves/{demo_wave}/quotas/{cell_id}",
                           data={**form_tokens(page), "target": "2"})  # fmt: skip
    assert response.headers["Location"].endswith(f"#cell-{cell_id}")
    text = client.get(response.headers["Location"]).get_data(as_text=True)
    note = "配额已修改。该单元有 1 份有效答卷超出目标，计为超额。"
    assert text.count(note) == 1
    row = re.search(rf'<tr id="cell-{cell_id}">.*?</tr>', text, re.S).group(0)
    assert f'<p class="flash cell-note" role="status">{note}</p>' in row
    assert text.index(note) > text.index(f'id="cell-{cell_id}"')
    # Shown once: the next visit has no message.
    assert note not in client.get(f"/staff/waves/{demo_wave}/quotas").get_data(as_text=True)
