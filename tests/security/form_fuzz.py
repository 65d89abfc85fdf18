"""Read the forms a page offers, and make hypothesis strategies of bad input for their fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from hypothesis import strategies as st

#: text that has broken software before: direction marks, zero-width and combining characters,
#: surrogate-free astral emoji, full-width and mixed scripts, markup, NUL-free control chars
EDGE_TEXT = (
    "\u202e反向文字\u202c", "\u200f\u200e\u200b\u2060\ufeff",
    "👩‍👩‍👧‍👦🏳️‍🌈🀄", "e\u0301\u0301\u0301",
    "Ｆｕｌｌ　ｗｉｄｔｈ", "عربي 中文 русский ελληνικά", "<b>粗</b>&amp;\"'", "第十二条之一",
    "1e309", "-1", "0", "99999999999999999999", "NaN", "true", "null", "[]", "{}",
    "../../etc/passwd",
    "2026-02-30T25:61", "1999-13-01", "\t\r\n", " ", "%s%n%x", "${7*7}{{7*7}}",
)


@dataclass
class FormField:
    name: str
    kind: str  # text, textarea, select, radio, checkbox, hidden, password, file, number, date
    options: list[str] = field(default_factory=list)
    value: str = ""


@dataclass
class PageForm:
    action: str
    fields: dict[str, FormField]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = PageForm(a.get("action", ""), {})
            self.forms.append(self._form)
        if self._form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            kind = {"email": "text", "url": "text", "search": "text", "tel": "text",
                    "datetime-local": "date", "date": "date"}.get(kind, kind)
            known = self._form.fields.get(name)
            if known is not None and kind in ("radio", "checkbox"):
                known.options.append(a.get("value", ""))
            elif kind not in ("submit", "button"):
                self._form.fields[name] = FormField(name, kind, [a.get("value", "")]
                                                    if kind in ("radio", "checkbox") else [],
                                                    a.get("value", ""))
        elif tag == "textarea":
            self._textarea = self._form.fields[name] = FormField(name, "textarea")
        elif tag == "select":
            self._select = self._form.fields[name] = FormField(name, "select")
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data


def forms_on(page: str) -> list[PageForm]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def form_for(page: str, path: str) -> PageForm | None:
    """Return the form that posts back to `path` (the page's own form)."""
    for form in forms_on(page):
        action = form.action.split("?")[0]
        if action in ("", path) and len(form.fields) > 1:
            return form
    return None


text = st.one_of(
    st.sampled_from(EDGE_TEXT),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40),
    st.text(alphabet="长字" + "a", min_size=5000, max_size=5000),  # longer than any limit
    st.builds(lambda s: s * 2000, st.sampled_from(["无空格的长文本", "x"])),  # long, unbroken
)


def value_for(f: FormField) -> st.SearchStrategy[str | None]:
    """Bad and good values for one field; None leaves it out of the POST."""
    good = st.just(f.value)
    if f.kind in ("select", "radio"):
        good = st.sampled_from(f.options or [""])
    elif f.kind == "checkbox":
        good = st.sampled_from(["y", ""])
    return st.one_of(good, good, text, st.none())


def fuzzed(form: PageForm) -> st.SearchStrategy[dict[str, str]]:
    names = [n for n, f in form.fields.items() if n != "csrf_token" and f.kind != "file"]
    return st.fixed_dictionaries({n: value_for(form.fields[n]) for n in names}).map(
        lambda d: {k: v for k, v in d.items() if v is not None})


CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")
