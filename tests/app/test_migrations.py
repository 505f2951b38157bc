"""The Alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

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
