"""Questionnaire objects: immutable views of a validated definition."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

QUESTION_TYPES = ("single_choice", "multiple_choice", "scale", "text", "integer")
ROLES = ("district", "sex", "age_group", "urban_rural")
CHOICE_TYPES = ("single_choice", "multiple_choice", "scale")

#: A time as an intro states it: "4 分钟", "3–5 分钟", "3至5分钟", "五分钟".
INTRO_TIME = re.compile(r"(?:\d+(?:\s*[–—\-~～至到]\s*\d+)?|[一二两三四五六七八九十]+)\s*分钟")


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    exclusive: bool = False
    #: None, or the polite message shown when this option screens the respondent out.
    screen_out: str | None = None
    excluded_from_scoring: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    page_id: str
    help: str | None = None
    required: bool = True
    options: tuple[Option, ...] = ()
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    show_if: dict | None = None
    role: str | None = None
    options_from: str | None = None

    def option(self, value: str) -> Option | None:
        for option in self.options:
            if option.value == value:
                return option
        return None


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Indicator:
    name: str
    label: str
    method: str  # top_two_box | score | any_of | yes_no
    kind: str  # proportion | mean
    items: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    points: dict[str, float] = field(default_factory=dict)
    activities: tuple[str, ...] = ()
    yes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: int
    title: str
    intro: str
    estimated_minutes: int
    thanks: str
    screen_out_message: str
    pages: tuple[Page, ...]
    scoring: tuple[Indicator, ...]
    headline: dict[str, str]
    content_hash: str
    raw: dict[str, Any]
    #: Things an organizer should look at that do not prevent loading (loader
    #: ``Problem`` objects, e.g. no Chinese at all); the load command prints them.
    warnings: tuple[Any, ...] = field(default=(), compare=False)

    # Built once per questionnaire (it is immutable): the resident's path looks
    # questions up dozens of times per request.
    @cached_property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for page in self.pages for q in page.questions)

    @cached_property
    def _by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def question(self, qid: str) -> Question:
        return self._by_id[qid]

    @cached_property
    def roles(self) -> dict[str, str]:
        return {q.role: q.id for q in self.questions if q.role}

    @cached_property
    def intro_time(self) -> str | None:
        """The time the intro tells residents the questionnaire takes, as written
        ("3–5 分钟"), or None when it gives none."""
        found = INTRO_TIME.search(self.intro)
        return found.group(0) if found else None

    @property
    def stated_time(self) -> str:
        """The time residents are told, everywhere (landing page, posters): the
        intro's own words when it gives one, else ``estimated_minutes`` ("4 分钟").
        One rule, so that a poster cannot promise another time than the
        questionnaire it leads to (the standard one: 约 4 分钟 against 3–5 分钟)."""
        return self.intro_time or f"{self.estimated_minutes} 分钟"

    @property
    def indicators(self) -> list[str]:
        return [ind.name for ind in self.scoring]

    def indicator(self, name: str) -> Indicator:
        for ind in self.scoring:
            if ind.name == name:
                return ind
        raise KeyError(name)
