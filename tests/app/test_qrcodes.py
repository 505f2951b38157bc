from sqlalchemy import select


def test_qrcodes_command_writes_svg_png_and_posters(app, runner, demo_wave, tmp_path):
    out = tmp_path / "codes"
    result = runner.invoke(
        args=["qrcodes", "--out", str(out), "--public-url", "https://s.example.cn"]
    )
    assert result.exit_code == 0, result.output
    svgs = sorted(out.glob("*.svg"))
    pngs = sorted(out.glob("*.png"))
    assert len(svgs) == len(pngs) == 6
    assert pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svgs[0].read_text()
    posters = (out / "posters.html").read_text(encoding="utf-8")
    assert posters.count('class="poster"') == 6
    assert "咸安区" in posters and "https://s.example.cn/s/" in posters
    # The time the questionnaire's own intro gives (it said 约 4 分钟, the intro 3–5 分钟).
    assert posters.count("花约 3–5 分钟匿名填写问卷") == 6


def test_qr_png_decodes_to_channel_url(app, demo_wave, tmp_path):
    """An independent decoder (zbar) reads the channel URL back from the PNG."""
    import os
    import shutil
    import subprocess

    import pytest

    from survey.extensions import db
    from survey.models import Channel
    from survey.qrcodes import write_channel_codes

    if not shutil.which("zbarimg"):
        if os.environ.get("SURVEY_REQUIRE_BROWSER"):
            pytest.fail("zbarimg (Debian zbar-tools) is required in CI")
        pytest.skip("zbarimg not installed")
    with app.app_context():
        channels = list(db.session.scalars(select(Channel)))
        codes = write_channel_codes(channels, "http://127.0.0.1:5000", tmp_path)
    out = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(codes[0].png_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == f"http://127.0.0.1:5000/s/{channels[0].token}"


def test_qrcodes_for_a_wave_that_is_not_there_says_so(app, runner, demo_wave, tmp_path):
    """A mistyped --wave-id was told to create a wave first, as if there were none."""
    result = runner.invoke(args=["qrcodes", "--wave-id", "999", "--out", str(tmp_path / "c"),
                                 "--public-url", "https://s.example.cn"])  # fmt: skip
    assert result.exit_code != 0 and "没有编号为 999 的调查轮次" in result.output
    assert not (tmp_path / "c").exists()


def test_a_long_channel_label_still_gets_its_files(app, runner, demo_wave, tmp_path):
    """A label of 100 Chinese characters (the page takes up to 200) made a file name
    of more than 255 bytes, and `survey qrcodes` stopped with OSError for every
    channel of the wave; a label of dots and slashes stays inside the folder."""
    from survey.extensions import db
    from survey.models import Channel, District, Wave
    from survey.operations.cities import create_channel

    with app.app_context():
        wave = db.session.get(Wave, demo_wave)
        district = db.session.scalar(select(District).filter_by(city_id=wave.city_id).limit(1))
        create_channel(wave, district, "温泉街道" * 25)
        create_channel(wave, district, "../../../etc/passwd")
        count = len(list(db.session.scalars(select(Channel).filter_by(wave_id=demo_wave))))
    out = tmp_path / "a" / "codes"
    result = runner.invoke(args=["qrcodes", "--out", str(out), "--public-url",
                                 "https://s.example.cn"])  # fmt: skip
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert len([n for n in names if n.endswith(".png")]) == count
    assert all(len(n.encode()) <= 255 for n in names)
    assert list((tmp_path / "a").iterdir()) == [out]


def test_qrcodes_leaves_out_closed_channels_as_the_posters_page_does(
    app, runner, demo_wave, tmp_path
):
    """`survey qrcodes` wrote posters for closed channels too, while the staff
    posters page prints only open ones: both leave closed ones out, and the
    console says how many."""
    import re

    from survey.extensions import db
    from survey.models import Channel
    from survey.operations.cities import set_channel_open
    from tests.staff import log_in, make_user

    with app.app_context():
        closed = db.session.scalars(select(Channel).order_by(Channel.id)).all()[1]
        closed_token, closed_label = closed.token, closed.label
        set_channel_open(closed, False)
    out = tmp_path / "codes"
    result = runner.invoke(args=["qrcodes", "--wave-id", str(demo_wave), "--out", str(out),
                                 "--public-url", "https://s.example.cn"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "已关闭的 1 个采集点不生成二维码和海报" in result.output
    assert closed_token not in result.output
    assert len(list(out.glob("*.svg"))) == len(list(out.glob("*.png"))) == 5
    posters = (out / "posters.html").read_text(encoding="utf-8")
    assert posters.count('class="poster"') == 5 and closed_token not in posters
    client = app.test_client()
    log_in(client, make_user(app, "org", "organizer"))
    page = client.get(f"/staff/waves/{demo_wave}/posters").get_data(as_text=True)
    labels = re.findall(r"采集点：([^<]*)</p>", page)
    assert re.findall(r"采集点：([^<]*)</p>", posters) == labels and closed_label not in labels

    with app.app_context():
        for channel in db.session.scalars(select(Channel)):
            set_channel_open(channel, False)
    out = tmp_path / "none"
    result = runner.invoke(args=["qrcodes", "--wave-id", str(demo_wave), "--out", str(out),
                                 "--public-url", "https://s.example.cn"])  # fmt: skip
    assert result.exit_code != 0
    assert "没有开放的采集点（已关闭 6 个），未生成二维码和海报" in result.output
    assert not out.exists()
