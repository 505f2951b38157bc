"""What the organizer's dashboard shows, from small pre-aggregated tables only.

Never scans responses: quota cells, channel counters, daily counts and the
duration histogram are maintained when a response is stored; the flagged list
uses the (wave_id, is_flagged) index with a limit, the withdrawn and excluded
counts the (wave_id, excluded, …) index (only the excluded rows).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta

from sqlalchemy import func, select

from survey.extensions import db
from survey.models import (
    Channel,
    ChannelStats,
    DailyCount,
    District,
    DurationBucket,
    QuotaCell,
    QuotaPlan,
    Response,
    Wave,
    utcnow,
)
from survey.operations.quality import beijing_time, local_day, median_from_buckets, utc_iso
from survey.respond.fieldwork import channel_state

FLAG_LABELS = {
    "too_fast": "用时过短（低于中位数的比例）",
    "min_duration": "用时过短",
    "straight_lined": "量表题全部同一答案",
    "repeated_device": "同一设备重复作答",
    "honeypot": "疑似机器提交",
    "many_from_client": "同一网络地址短时间内提交较多",
}


#: The kinds of device that survey/respond/paradata.py records, in words.
DEVICE_LABELS = {"mobile": "手机", "tablet": "平板电脑", "desktop": "电脑", "unknown": "未知"}


def device_label(device_class: str) -> str:
    """A response's device class as staff read it: 手机, 手机（微信内） …"""
    kind, _, app = device_class.partition("-")
    label = DEVICE_LABELS.get(kind, device_class)
    return f"{label}（微信内）" if app == "wechat" else label


def progress_class(share: float) -> str:
    return "good" if share >= 0.9 else "mid" if share >= 0.5 else "low"


def _set_aside(session, wave_id: int) -> tuple[dict[int, int], dict[int, int]]:
    """The wave's completions that no longer count, by channel: withdrawn by
    their respondents, and excluded by organizers. Read through the index of
    valid cells (wave, excluded, …): only the excluded rows, which are few (a
    withdrawn one is excluded too, and kept as a tombstone)."""
    withdrawn: dict[int, int] = {}
    excluded: dict[int, int] = {}
    is_withdrawn = Response.withdrawn_at.is_not(None)
    for channel_id, was_withdrawn, count in session.execute(
        select(Response.channel_id, is_withdrawn, func.count(Response.id))
        .where(Response.wave_id == wave_id, Response.excluded.is_(True))
        .group_by(Response.channel_id, is_withdrawn)
    ):
        (withdrawn if was_withdrawn else excluded)[channel_id] = count
    return withdrawn, excluded


#: How many flagged responses the dashboard lists (those waiting for review first).
FLAGGED_LIMIT = 50


def dashboard_data(wave: Wave, today: date | None = None, flagged_limit: int | None = None) -> dict:
    session = db.session
    today = today or local_day()
    districts = [
        name
        for name in session.scalars(
            select(District.name).filter_by(city_id=wave.city_id).order_by(District.sort_order)
        )
    ]
    cells = session.execute(
        select(QuotaCell.id, QuotaCell.district, QuotaCell.urban_rural, QuotaCell.sex,
               QuotaCell.age_group, QuotaCell.target, QuotaCell.achieved, QuotaCell.over_quota)
        .where(QuotaCell.wave_id == wave.id)
        .order_by(QuotaCell.id)
    ).all()  # fmt: skip
    per_district = {d: {"district": d, "target": 0, "achieved": 0, "over_quota": 0, "cells": []}
                    for d in districts}  # fmt: skip
    for cid, d, urban_rural, sex, age, target, achieved, over in cells:
        block = per_district.setdefault(
            d, {"district": d, "target": 0, "achieved": 0, "over_quota": 0, "cells": []}
        )
        block["target"] += target
        block["achieved"] += achieved
        block["over_quota"] += over
        share = achieved / target if target else 1.0
        block["cells"].append({"id": cid, "urban_rural": urban_rural, "sex": sex,
                               "age_group": age, "target": target, "achieved": achieved,
                               "over_quota": over, "share": share,
                               "level": progress_class(share)})  # fmt: skip

    channel_rows = session.execute(
        select(Channel.id, Channel.label, Channel.is_open, District.name,
               ChannelStats.visits, ChannelStats.starts, ChannelStats.screen_outs,
               ChannelStats.quota_full, ChannelStats.completions)
        .join(District, District.id == Channel.district_id)
        .join(ChannelStats, ChannelStats.channel_id == Channel.id)
        .where(Channel.wave_id == wave.id)
        .order_by(Channel.id)
    ).all()  # fmt: skip
    buckets: dict[int, list[tuple[int, int]]] = {}
    for cid, bucket, count in session.execute(
        select(DurationBucket.channel_id, DurationBucket.bucket, DurationBucket.count)
        .join(Channel, Channel.id == DurationBucket.channel_id)
        .where(Channel.wave_id == wave.id)
    ):
        buckets.setdefault(cid, []).append((bucket, count))
    withdrawn, excluded = _set_aside(session, wave.id)
    channels = []
    for cid, label, is_open, district, visits, starts, screen, full, done in channel_rows:
        median = median_from_buckets(buckets.get(cid, []))
        # What residents meet (after the end date: 已结束, whatever the flag).
        state, state_label = channel_state(is_open, wave, today)
        channels.append({"id": cid, "label": label, "open": is_open, "district": district,
                         "state": state, "state_label": state_label,
                         "visits": visits, "starts": starts, "screen_outs": screen,
                         "quota_full": full, "completions": done,
                         "withdrawn": withdrawn.get(cid, 0),
                         "excluded": excluded.get(cid, 0),
                         "completion_rate": done / starts if starts else None,
                         "median_seconds": median})  # fmt: skip

    daily_rows = session.execute(
        select(DailyCount.day, District.name, func.sum(DailyCount.completions))
        .join(Channel, Channel.id == DailyCount.channel_id)
        .join(District, District.id == Channel.district_id)
        .where(Channel.wave_id == wave.id)
        .group_by(DailyCount.day, District.name)
        .order_by(DailyCount.day)
    ).all()
    daily: dict[str, int] = {}
    recent: dict[str, int] = {}
    first_day = min((day for day, _, _ in daily_rows), default=today)
    if wave.starts_on is not None:
        first_day = min(first_day, wave.starts_on)
    # Days of fieldwork in the 3-day window (on its first two days, fewer than 3).
    window = max(1, min(3, (today - first_day).days + 1))
    for day, district, count in daily_rows:
        daily[day.isoformat()] = daily.get(day.isoformat(), 0) + int(count)
        if day > today - timedelta(days=3):
            recent[district] = recent.get(district, 0) + int(count)
    # Days without completions between the first and the last are shown as 0:
    # the chart's bars are days, side by side.
    days = sorted(daily)
    if days:
        first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
        for n in range((last - first).days + 1):
            daily.setdefault((first + timedelta(days=n)).isoformat(), 0)

    days_left = (wave.ends_on - today).days if wave.ends_on else None
    # Judge the pace only after the first day of fieldwork.
    judged = wave.starts_on is None or (today - wave.starts_on).days >= 1
    for block in per_district.values():
        block["share"] = block["achieved"] / block["target"] if block["target"] else 0.0
        block["level"] = progress_class(block["share"]) if block["target"] else "low"
        rate = recent.get(block["district"], 0) / window
        block["rate_per_day"] = rate
        block["at_risk"] = bool(
            judged
            and block["target"]
            and block["achieved"] < block["target"]
            and days_left is not None
            and days_left >= 0
            and block["achieved"] + rate * days_left < block["target"]
        )

    flagged = session.execute(
        select(Response.id, Response.district, Response.flags, Response.excluded,
               Response.reviewed, Response.duration_seconds, Response.submitted_at)
        .where(Response.wave_id == wave.id, Response.is_flagged.is_(True))
        .order_by(Response.reviewed, Response.id.desc())
        .limit(flagged_limit or FLAGGED_LIMIT)
    ).all()  # fmt: skip
    pending = session.scalar(
        select(func.count(Response.id)).where(
            Response.wave_id == wave.id,
            Response.is_flagged.is_(True),
            Response.reviewed.is_(False),
            Response.excluded.is_(False),
        )
    )
    plan_made = session.scalar(select(QuotaPlan.created_at).where(QuotaPlan.wave_id == wave.id))
    total_target = sum(b["target"] for b in per_district.values())
    total_achieved = sum(b["achieved"] for b in per_district.values())
    now = utcnow()
    return {
        # When these numbers were read: for machines (UTC with its offset), and
        # as staff read the time (Beijing time, to the second).
        "generated_at": utc_iso(now),
        "generated_beijing": beijing_time(now),
        "wave": {"id": wave.id, "name": wave.name, "city": wave.city.name,
                 "ends_on": wave.ends_on.isoformat() if wave.ends_on else None,
                 "started": wave.starts_on is None or today >= wave.starts_on,
                 "pace_judged": judged,
                 "days_left": days_left, "policy": wave.quota_policy,
                 # No quota plan yet: responses are taken, but not by quota.
                 "has_plan": bool(cells),
                 # Which plan (when it was made, in microseconds since 1970; none:
                 # 0): a page drawn before a remake shows cells no longer the plan's.
                 "plan_version": round(plan_made.replace(tzinfo=UTC).timestamp() * 1e6)
                 if plan_made else 0,
                 # Cells by district × 城乡 × sex × age group (a plan by 城乡).
                 "by_urban_rural": any(cell.urban_rural for cell in cells)},
        "totals": {"target": total_target, "achieved": total_achieved,
                   "over_quota": sum(b["over_quota"] for b in per_district.values()),
                   "pending_review": pending,
                   "completions": sum(c["completions"] for c in channels),
                   # Of the completions: withdrawn by their respondents, and
                   # excluded by organizers (neither counts in the quotas).
                   "withdrawn": sum(withdrawn.values()),
                   "excluded": sum(excluded.values()),
                   # The rest: the valid responses, as the exports page counts
                   # them (within quota, over it, or in no cell of the plan).
                   "valid": sum(c["completions"] for c in channels)
                   - sum(withdrawn.values()) - sum(excluded.values()),
                   "visits": sum(c["visits"] for c in channels),
                   "share": total_achieved / total_target if total_target else 0.0},
        "districts": list(per_district.values()),
        "channels": channels,
        "daily": [{"day": d, "completions": n} for d, n in sorted(daily.items())],
        "flagged": [{"id": r.id, "district": r.district,
                     "flags": list(r.flags), "excluded": r.excluded,
                     "reviewed": r.reviewed or r.excluded,
                     "duration": r.duration_seconds,
                     # UTC with its offset; submitted_beijing as staff read it.
                     "submitted_at": utc_iso(r.submitted_at),
                     "submitted_beijing": beijing_time(r.submitted_at)}
                    for r in flagged],
    }  # fmt: skip
