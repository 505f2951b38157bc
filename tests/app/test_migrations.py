"""The Alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from survey.models import Base


def test_models_and_migrations_agree(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], diff


def test_0008_counts_only_valid_responses_in_quota_cells(app, database_url, demo_wave):
    """Before 0008 an excluded response kept its quota place; the migration
    recounts each cell from its responses that are neither excluded nor withdrawn,
    and marks the excluded ones reviewed."""
    from alembic import command
    from sqlalchemy import select, text

    from survey.extensions import db
    from survey.migrate import alembic_config, upgrade
    from survey.models import QuotaCell, Response
    from tests.resident import channel_token, complete

    token = channel_token(app)
    for _ in range(3):
        complete(app.test_client(), token)
    with app.app_context():
        key = db.session.execute(
            select(Response.district, Response.sex, Response.age_group)
        ).first()
        db.session.close()  # no transaction of the app's left open while the schema changes
    command.downgrade(alembic_config(database_url), "0007")
    try:
        engine = create_engine(database_url)
        with engine.begin() as conn:  # as the code before 0008 left it: 1 excluded, 3 counted
            first = conn.execute(text("SELECT min(id) FROM response")).scalar()
            conn.execute(text("UPDATE response SET excluded = true WHERE id = :i"), {"i": first})
            conn.execute(  # the third was excluded and restored before
                text("INSERT INTO audit_event (at, actor_name, action, object_type, object_id,"
                     " detail) VALUES (CURRENT_TIMESTAMP, 'org', 'response_restore',"
                     " 'response', :i, '{}')"),
                {"i": str(first + 2)},
            )  # fmt: skip
        engine.dispose()
    finally:
        upgrade(database_url)
    with app.app_context():
        cell = db.session.scalar(
            select(QuotaCell).filter_by(district=key[0], sex=key[1], age_group=key[2])
        )
        assert (cell.achieved, cell.over_quota) == (2, 0)
        reviewed = dict(db.session.execute(select(Response.id, Response.reviewed)).all())
        assert reviewed == {first: True, first + 1: False, first + 2: True}


def test_0008_gives_places_freed_before_it_to_responses_over_quota(app, database_url, demo_wave):
    """Soft policy: a response within the quota excluded before 0008 left its
    place counted free while responses over quota waited; the migration moves the
    earliest of them in, as excluding does since (an upgrade tester's finding)."""
    from alembic import command
    from sqlalchemy import select, text, update

    from survey.extensions import db
    from survey.migrate import alembic_config, upgrade
    from survey.models import QuotaCell, Response, Wave
    from tests.resident import channel_token, complete

    with app.app_context():
        db.session.execute(update(Wave).where(Wave.id == demo_wave).values(quota_policy="soft"))
        db.session.execute(update(QuotaCell).values(target=2))
        db.session.commit()
    token = channel_token(app)
    for _ in range(4):
        complete(app.test_client(), token)
    with app.app_context():
        ids = db.session.scalars(select(Response.id).order_by(Response.id)).all()
        db.session.close()
    command.downgrade(alembic_config(database_url), "0007")
    try:
        engine = create_engine(database_url)
        with engine.begin() as conn:  # excluded by the code before 0008: counters untouched
            conn.execute(text("UPDATE response SET excluded = true WHERE id = :i"), {"i": ids[0]})
        engine.dispose()
    finally:
        upgrade(database_url)
    with app.app_context():
        over = dict(db.session.execute(select(Response.id, Response.over_quota)).all())
        cell = db.session.scalar(select(QuotaCell).where(QuotaCell.achieved > 0))
        assert [over[i] for i in ids] == [False, False, False, True]
        assert (cell.target, cell.achieved, cell.over_quota) == (2, 2, 1)


def test_0011_keeps_every_quota_cell_and_count_of_a_wave_with_responses(
    app, database_url, demo_wave
):
    """0011 adds 城乡 to quota cells (and to the unique key) and says whether a
    plan is by it: an installation in fieldwork keeps its cells, targets and
    counts, all cells not by 城乡, and the resident's path counts on in them."""
    from alembic import command
    from sqlalchemy import inspect, select, update

    from survey.extensions import db
    from survey.migrate import alembic_config, upgrade
    from survey.models import QuotaCell, QuotaPlan, Response, Wave
    from tests.resident import channel_token, complete

    columns = (QuotaCell.id, QuotaCell.district, QuotaCell.sex, QuotaCell.age_group,
               QuotaCell.target, QuotaCell.achieved, QuotaCell.over_quota)  # fmt: skip
    with app.app_context():
        db.session.execute(update(Wave).where(Wave.id == demo_wave).values(quota_policy="soft"))
        db.session.execute(update(QuotaCell).values(target=2))
        db.session.commit()
    token = channel_token(app)
    for _ in range(3):
        assert complete(app.test_client(), token).status_code == 303
    with app.app_context():
        before = db.session.execute(select(*columns).order_by(QuotaCell.id)).all()
        responses = db.session.execute(select(Response.id, Response.over_quota)).all()
        db.session.close()
    assert sum(row.achieved + row.over_quota for row in before) == 3
    command.downgrade(alembic_config(database_url), "0010")
    try:
        engine = create_engine(database_url)
        assert "urban_rural" not in {c["name"] for c in inspect(engine).get_columns("quota_cell")}
        engine.dispose()
    finally:
        upgrade(database_url)
    with app.app_context():
        assert db.session.execute(select(*columns).order_by(QuotaCell.id)).all() == before
        assert set(db.session.scalars(select(QuotaCell.urban_rural))) == {""}
        assert db.session.get(QuotaPlan, demo_wave).by_urban_rural is False
        assert db.session.execute(select(Response.id, Response.over_quota)).all() == responses
        db.session.close()
    assert complete(app.test_client(), token).status_code == 303
    with app.app_context():
        cell = db.session.scalar(select(QuotaCell).where(QuotaCell.achieved > 0))
        assert (cell.target, cell.achieved, cell.over_quota) == (2, 2, 2)


def test_0011_downgrade_refuses_a_plan_by_urban_rural(app, database_url, demo_wave):
    """Cells by 城乡 would clash on the narrower key: the downgrade says so and
    changes nothing."""
    import pytest
    from alembic import command
    from sqlalchemy import func, select

    from survey.extensions import db
    from survey.migrate import alembic_config
    from survey.models import QuotaCell, Wave
    from survey.operations.quotas import make_plan

    with app.app_context():
        make_plan(db.session.get(Wave, demo_wave), total=1200, by_urban_rural=True)
        db.session.close()
    with pytest.raises(RuntimeError, match="按城乡制定的配额方案"):
        command.downgrade(alembic_config(database_url), "0010")
    with app.app_context():
        assert db.session.scalar(select(func.count(QuotaCell.id))) == 120


def test_0013_renames_channels_named_alike_and_then_refuses_them(app, database_url, demo_wave):
    """Before stop 18's check two collection points of a district could share a
    name; 0013 keeps the earliest as it was, renames the others, and from then on
    the database itself refuses a second one (the check alone let two organizers
    at once through)."""
    from alembic import command
    from sqlalchemy import exc, select, text

    from survey.extensions import db
    from survey.migrate import alembic_config, upgrade
    from survey.models import Channel

    with app.app_context():
        first = db.session.scalar(select(Channel).order_by(Channel.id).limit(1))
        wave_id, district_id, label = first.wave_id, first.district_id, first.label
        db.session.close()
    command.downgrade(alembic_config(database_url), "0012")
    try:
        engine = create_engine(database_url)
        with engine.begin() as conn:
            for n in range(3):  # two more of the same name, and one already named "… (2)"
                conn.execute(
                    text("INSERT INTO channel (wave_id, district_id, label, token, is_open,"
                         " created_at) VALUES (:w, :d, :l, :t, true, CURRENT_TIMESTAMP)"),
                    {"w": wave_id, "d": district_id, "t": f"tok{n}",
                     "l": f"{label} (2)" if n == 2 else label},
                )  # fmt: skip
        engine.dispose()
    finally:
        upgrade(database_url)
    with app.app_context():
        labels = db.session.scalars(
            select(Channel.label).where(Channel.district_id == district_id).order_by(Channel.id)
        ).all()
        assert labels == [label, f"{label} (3)", f"{label} (4)", f"{label} (2)"]
        db.session.close()
    engine = create_engine(database_url)
    try:
        with pytest.raises(exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                text("INSERT INTO channel (wave_id, district_id, label, token, is_open, created_at)"
                     " VALUES (:w, :d, :l, 'tok9', true, CURRENT_TIMESTAMP)"),
                {"w": wave_id, "d": district_id, "l": label},
            )  # fmt: skip
    finally:
        engine.dispose()
