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
