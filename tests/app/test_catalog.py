"""The Chinese catalog: complete, placeholders intact, compiled, and used by default."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from support import REPO

CATALOG = REPO / "app" / "translations" / "zh" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]")


def _messages(path: Path) -> list[Message]:
    with path.open("rb") as handle:
        return [message for message in read_po(handle) if message.id]


MESSAGES = _messages(CATALOG / "messages.po")


def _ids(message: Message) -> tuple[str, ...]:
    """Return the msgid, and the plural msgid if any (a .mo file gives them as a list)."""
    return tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    """Return the translation, or each plural form of it."""
    if isinstance(message.string, tuple | list):
        return tuple(message.string)
    return (message.string,)


def _placeholders(text: str) -> list[str]:
    return sorted(match.group(0) for match in PLACEHOLDER.finditer(text))


def test_the_catalog_is_not_empty():
    assert len(MESSAGES) > 100


def test_every_message_has_a_chinese_translation():
    untranslated = [m.id for m in MESSAGES if not all(text.strip() for text in _strings(m))]
    fuzzy = [m.id for m in MESSAGES if m.fuzzy]
    assert not untranslated, f"translate these in messages.po: {untranslated}"
    assert not fuzzy, f"check these and remove the fuzzy flag: {fuzzy}"


def test_a_translation_keeps_the_placeholders_of_its_msgid():
    broken = [
        (m.id, text)
        for m in MESSAGES
        for text in _strings(m)
        if _placeholders(text) != _placeholders(_ids(m)[-1])
    ]
    assert not broken


def test_the_compiled_catalog_matches_the_po_file():
    path = CATALOG / "messages.mo"
    assert path.exists(), "run scripts/i18n compile"
    with path.open("rb") as handle:
        compiled = {_ids(m): _strings(m) for m in read_mo(handle) if m.id}
    stale = [m.id for m in MESSAGES if compiled.get(_ids(m)) != _strings(m)]
    assert not stale, f"messages.mo is out of date (run scripts/i18n compile): {stale[:5]}"


def test_the_home_page_is_in_chinese_by_default_and_in_english_on_request(client):
    chinese = client.get("/").get_data(as_text=True)
    english = client.get("/?lang=en").get_data(as_text=True)

    assert '<html lang="zh-Hans">' in chinese
    assert ">法规草案</a>" in chinese
    assert ">登录</a>" in chinese
    assert '<html lang="en">' in english
    assert ">Drafts</a>" in english
    assert "法规草案" not in english
