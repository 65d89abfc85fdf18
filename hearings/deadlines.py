"""Deadlines from the hearing rules: pure functions over times, configurable per institution.

Every number of days can be changed through the app config key HEARING_DEADLINES (a dict
holding only the keys to change). The defaults follow the Shandong hearing rules (2019).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DEFAULTS: dict[str, int] = {
    #: 第十条: the notice is published at least 20 days before the hearing
    "notice_days_before": 20,
    #: 第十二条: speakers are chosen at least 10 days before (registration closes then too)
    "selection_days_before": 10,
    #: 第十四条: speakers are told at least 7 days before
    "speaker_notice_days_before": 7,
    #: 第十六条: applications to observe are made at least 7 days before
    "observer_close_days_before": 7,
    #: 第十六条: observers are told at least 3 days before
    "observer_notice_days_before": 3,
    #: 第二十七条: speakers may read the record within 5 days after the hearing
    "record_review_days_after": 5,
    #: 第三十条: feedback within 15 days after the regulation passes
    "feedback_days_after_adoption": 15,
    #: a deadline this close and not yet met is shown as "due soon"
    "warning_days": 3,
}

#: the deadlines of a hearing, in the order they fall
STEPS = ("notice", "selection", "speaker_notice", "observer_close", "observer_notice",
         "record_review", "feedback")
#: deadlines that pass by themselves: nobody takes a step, the time just runs out
AUTOMATIC = ("observer_close",)
#: 第十条第三款: under the simplified procedure the notice period does not apply
SIMPLIFIED_EXEMPT = ("notice",)
STATES = ("ok", "due_soon", "missed")


def settings(overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    """Return the defaults updated with `overrides`; refuse unknown keys and negative days."""
    merged = dict(DEFAULTS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULTS:
            raise KeyError(f"unknown hearing deadline setting: {key}")
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{key} must be a whole number of days, not {value!r}")
        merged[key] = value
    return merged


@dataclass(frozen=True)
class HearingTimes:
    """The times a hearing's deadlines depend on, as plain data (naive UTC)."""

    starts_at: datetime
    ends_at: datetime | None = None
    procedure: str = "ordinary"
    #: when the regulation passed (the draft was adopted), if it has
    adopted_at: datetime | None = None
    #: step → when it was taken
    done: Mapping[str, datetime | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Deadline:
    """One deadline of one hearing and how it stands."""

    step: str
    #: None while it cannot be known yet (feedback before the regulation passes)
    due: datetime | None
    done_at: datetime | None
    #: one of STATES
    state: str
    #: the rules do not require this deadline for the hearing's procedure
    exempt: bool = False

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def late(self) -> bool:
        return self.done_at is not None and self.due is not None and self.done_at > self.due


def due_dates(times: HearingTimes, config: Mapping[str, int]) -> dict[str, datetime | None]:
    """Return the due date of every step."""
    start = times.starts_at
    end = times.ends_at or times.starts_at
    days = timedelta(days=1)
    return {
        "notice": start - config["notice_days_before"] * days,
        "selection": start - config["selection_days_before"] * days,
        "speaker_notice": start - config["speaker_notice_days_before"] * days,
        "observer_close": start - config["observer_close_days_before"] * days,
        "observer_notice": start - config["observer_notice_days_before"] * days,
        "record_review": end + config["record_review_days_after"] * days,
        "feedback": (times.adopted_at + config["feedback_days_after_adoption"] * days
                     if times.adopted_at else None),
    }


def is_exempt(step: str, procedure: str) -> bool:
    """Tell whether the procedure frees the hearing from this deadline."""
    return procedure == "simplified" and step in SIMPLIFIED_EXEMPT


def _state(due: datetime | None, done_at: datetime | None, exempt: bool, now: datetime,
           warning: timedelta) -> str:
    if exempt or due is None:
        return "ok"
    if done_at is not None:
        return "missed" if done_at > due else "ok"
    if now > due:
        return "missed"
    return "due_soon" if now >= due - warning else "ok"


def deadlines(times: HearingTimes, now: datetime, config: Mapping[str, int]) -> list[Deadline]:
    """Return every deadline of the hearing with its state at `now`."""
    warning = timedelta(days=config["warning_days"])
    result = []
    for step, due in due_dates(times, config).items():
        done_at = times.done.get(step)
        if step in AUTOMATIC and done_at is None and due is not None and now >= due:
            done_at = due
        exempt = is_exempt(step, times.procedure)
        result.append(Deadline(step, due, done_at, _state(due, done_at, exempt, now, warning),
                               exempt))
    return result


def next_deadline(items: list[Deadline]) -> Deadline | None:
    """Return the earliest deadline not yet met, if any has a due date."""
    open_items = [d for d in items if not d.done and d.due is not None and not d.exempt]
    return min(open_items, key=lambda d: d.due) if open_items else None


def warnings(items: list[Deadline]) -> list[Deadline]:
    """Return the deadlines that need attention: due soon, or missed and not yet met."""
    return [d for d in items if d.state == "due_soon" or (d.state == "missed" and not d.done)]


def lateness(step: str, times: HearingTimes, now: datetime,
             config: Mapping[str, int]) -> Deadline | None:
    """Return the deadline if taking `step` at `now` would be after it, else None."""
    due = due_dates(times, config)[step]
    if due is None or now <= due:
        return None
    exempt = is_exempt(step, times.procedure)
    return Deadline(step, due, now, "ok" if exempt else "missed", exempt)
