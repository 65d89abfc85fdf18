"""An iCalendar (RFC 5545) file for a hearing, written by hand: one VEVENT in UTC."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from app.models import utcnow
from hearings.models import Hearing

#: RFC 5545 §3.1: lines longer than 75 octets are folded
MAX_OCTETS = 75


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, never splitting a character."""
    pieces: list[str] = []
    current, size, limit = [], 0, MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            # a continuation line starts with one space, which counts towards its 75 octets
            current, size, limit = [], 0, MAX_OCTETS - 1
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def utc_stamp(value: datetime) -> str:
    """Format a naive-UTC time as an RFC 5545 UTC DATE-TIME."""
    return value.strftime("%Y%m%dT%H%M%SZ")


def hearing_calendar(hearing: Hearing, url: str, *, host: str,
                     now: datetime | None = None) -> str:
    """Return the hearing as a calendar with one event, lines ending in CRLF."""
    location = ", ".join(part for part in (hearing.place, hearing.online_url) if part)
    description = [hearing.organiser] if hearing.organiser else []
    description.append(_("Questions to be heard:"))
    description += [f"{q.position}. {q.text}" for q in hearing.questions]
    description.append(_("Notice and registration: %(url)s", url=url))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Minyi//Legislative hearings//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:hearing-{hearing.id}@{host.split(':')[0]}",
        f"DTSTAMP:{utc_stamp(now or utcnow())}",
        f"DTSTART:{utc_stamp(hearing.starts_at)}",
        f"DTEND:{utc_stamp(hearing.ends_at or hearing.starts_at)}",
        f"SUMMARY:{escape_text(hearing.title)}",
        f"LOCATION:{escape_text(location)}",
        f"DESCRIPTION:{escape_text(chr(10).join(description))}",
        f"URL:{url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
