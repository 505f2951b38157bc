"""QR codes and printable A4 posters for channels (segno: pure Python, SVG+PNG)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import segno
from flask import render_template
from sqlalchemy import select

from survey.paths import STATIC_DIR


@dataclass(frozen=True)
class ChannelCode:
    district: str
    label: str
    url: str
    svg_path: Path
    png_path: Path


class PublicUrlError(ValueError):
    """The public URL cannot be printed on QR codes (message in Chinese)."""


def public_base_url(url: str) -> str:
    """The public address residents' phones open, as ``scheme://host[:port]``.

    A trailing slash is dropped. The app answers at the root of its host (no
    path prefix), so a URL with a path, query or fragment is refused, as is one
    without ``http://`` or ``https://``: a printed QR code cannot be corrected.
    """
    text = url.strip()
    example = "例如 https://survey.example.cn"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise PublicUrlError(f"网址“{text}”无效，{example}。") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise PublicUrlError(f"网址“{text}”应以 https:// 或 http:// 开头并带域名，{example}。")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise PublicUrlError(
            f"网址“{text}”只能是协议和域名（可带端口），不能带路径或参数：本系统须部署在"
            f"网站根路径，二维码指向 网址/s/采集点代码，{example}。"
        )
    return f"{parts.scheme.lower()}://{parts.netloc}"


def _safe(name: str) -> str:
    """*name* as part of a file name: letters, digits, _ and - only, and at most 40
    characters (120 bytes in UTF-8): a label of 100 Chinese characters made a
    name longer than the 255 bytes a file system allows, and no code was written."""
    return re.sub(r"[^\w\-]+", "_", name, flags=re.UNICODE).strip("_")[:40] or "channel"


def qr_svg(url: str, scale: int = 8) -> str:
    """Inline SVG markup of a QR code (error correction M, quiet zone kept), its
    natural size *scale* pixels a module. It has a viewBox too, so that a style
    giving it another size scales the whole code (segno writes width and height
    only, and a smaller box cut the code to its top-left corner)."""
    qr = segno.make(url, error="m")
    buf = io.BytesIO()
    qr.save(buf, kind="svg", scale=scale, xmldecl=False, svgns=True)
    width, height = qr.symbol_size(scale=scale)
    return buf.getvalue().decode().replace("<svg ", f'<svg viewBox="0 0 {width} {height}" ', 1)


def poster_channels(wave_id: int) -> tuple[list, int]:
    """The channels a wave's QR codes and posters are made for, and how many are
    left out: the open ones, by district in the city's order, each district's by
    number; a closed one takes no resident, so no poster (the staff posters page
    and ``survey qrcodes`` print the same ones)."""
    from survey.extensions import db
    from survey.models import Channel, District

    channels = list(db.session.scalars(
        select(Channel).join(District).where(Channel.wave_id == wave_id)
        .order_by(District.sort_order, Channel.id)  # by district, to hand them out
    ))  # fmt: skip
    open_ones = [channel for channel in channels if channel.is_open]
    return open_ones, len(channels) - len(open_ones)


def poster_times(channels) -> dict[int, str]:
    """The time a poster tells residents to plan, by wave ("3–5 分钟"): what the
    wave's questionnaire tells them on its landing page (``stated_time``)."""
    from survey.operations.questionnaires import questionnaire_of

    return {c.wave_id: questionnaire_of(c.wave.questionnaire).stated_time for c in channels}


def write_channel_codes(channels, base_url: str, out_dir: Path) -> list[ChannelCode]:
    """Write ``<district>-<label>-<id>.svg/.png`` per channel and ``posters.html``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    codes = []
    for channel in channels:
        url = f"{base_url.rstrip('/')}/s/{channel.token}"
        stem = f"{_safe(channel.district.name)}-{_safe(channel.label)}-{channel.id}"
        qr = segno.make(url, error="m")
        svg_path, png_path = out_dir / f"{stem}.svg", out_dir / f"{stem}.png"
        qr.save(svg_path, scale=10)
        qr.save(png_path, scale=12)
        codes.append(ChannelCode(channel.district.name, channel.label, url, svg_path, png_path))
    posters = render_template(
        "posters.html",
        items=[
            (channel, code, qr_svg(code.url)) for channel, code in zip(channels, codes, strict=True)
        ],
        inline_css=(STATIC_DIR / "posters.css").read_text(encoding="utf-8"),
        times=poster_times(channels),
    )
    (out_dir / "posters.html").write_text(posters, encoding="utf-8")
    return codes
