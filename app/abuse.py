"""Keeping bots and floods out of the public forms: a honeypot field, a simple question
answered in words or digits, and a keyed hash of the sender's address.

No outside service is involved: the question travels in a signed token bound to the form's
submission key, so the server keeps no state and a solved question yields one comment only.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from wtforms import HiddenField, StringField
from wtforms.validators import Length, ValidationError

#: seconds a question stays valid: long enough to write a considered comment
CHALLENGE_MAX_AGE = 3 * 3600
#: the words for 0 … 18 the question is written in (answers may use words or digits)
NUMBER_WORDS = (_l("zero"), _l("one"), _l("two"), _l("three"), _l("four"), _l("five"),
                _l("six"), _l("seven"), _l("eight"), _l("nine"), _l("ten"), _l("eleven"),
                _l("twelve"), _l("thirteen"), _l("fourteen"), _l("fifteen"), _l("sixteen"),
                _l("seventeen"), _l("eighteen"))
_ENGLISH_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                    "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
                    "sixteen", "seventeen", "eighteen")
_CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
                   "六": 6, "七": 7, "八": 8, "九": 9}


# --- the sender's address -----------------------------------------------------------------


def request_origin() -> str:
    """Return a keyed hash of the client's network (the address, or its /64 for IPv6).

    The column default of `Comment.origin`: "" outside a request.  The raw address is never
    stored; without the secret key the hash cannot be turned back into it.
    """
    if not has_request_context():
        return ""
    address = request.remote_addr or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        network = address
    else:
        # one IPv6 subscriber holds a whole /64 and can change addresses within it at will
        network = (str(ipaddress.ip_network(f"{parsed}/64", strict=False))
                   if parsed.version == 6 else str(parsed))
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"origin:" + network.encode(), hashlib.sha256).hexdigest()[:16]


# --- the honeypot -------------------------------------------------------------------------


class Honeypot:
    """A field people never see nor reach by keyboard; a bot that fills it is turned away.

    Mix into a FlaskForm before it.  The route checks `caught` after validation and, when
    it is true, answers as if all went well without storing anything.
    """

    website = StringField(_l("Leave this field empty"))

    @property
    def caught(self) -> bool:
        return bool((self.website.data or "").strip())


# --- the question -------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="comment-challenge")


def new_challenge(key: str) -> str:
    """Return a signed token holding a fresh sum or difference of two numbers under ten."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    op = "+" if secrets.randbelow(2) or a == b else "-"
    if op == "-" and a < b:
        a, b = b, a
    return _serializer().dumps({"a": a, "b": b, "op": op, "k": key})


def read_challenge(token: str, key: str) -> dict | None:
    """Return the question in a token that is genuine, unexpired and made for this form."""
    try:
        data = _serializer().loads(token or "", max_age=CHALLENGE_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or data.get("k") != key:
        return None
    return data


def question_text(data: dict) -> str:
    """Put a question in words, in the reader's language."""
    a, b = str(NUMBER_WORDS[data["a"]]), str(NUMBER_WORDS[data["b"]])
    if data["op"] == "+":
        return _("What is %(a)s plus %(b)s?", a=a, b=b)
    return _("What is %(a)s minus %(b)s?", a=a, b=b)


def parse_number(text: str) -> int | None:
    """Read an answer given in digits (any script), Chinese numerals or English words."""
    text = "".join((text or "").split()).lower()
    if not text or len(text) > 9:
        return None
    if text.isdecimal():
        return int(text)  # int() reads full-width and other Unicode decimal digits too
    if text in _ENGLISH_NUMBERS:
        return _ENGLISH_NUMBERS.index(text)
    if text in _CHINESE_DIGITS:
        return _CHINESE_DIGITS[text]
    if text == "十":
        return 10
    if len(text) == 2 and text[0] == "十" and _CHINESE_DIGITS.get(text[1], 0) > 0:
        return 10 + _CHINESE_DIGITS[text[1]]  # 十一 … 十九
    return None


def answer_of(data: dict) -> int:
    return data["a"] + data["b"] if data["op"] == "+" else data["a"] - data["b"]


class Challenge:
    """A question to answer before the form is accepted, when staff ask for one.

    Mix into a FlaskForm; call `ask(enabled, key)` once the submission key is known and
    before validating.  A wrong or expired answer gets a new question and a clear message.
    """

    challenge_token = HiddenField()
    challenge_answer = StringField(
        _l("Your answer"), validators=[Length(max=20)],
        description=_l("A short question that keeps automated mass submissions out. Answer "
                       "with a number, in digits or in words."))

    challenge_on: bool = False
    challenge_key: str = ""
    challenge_posed: dict | None = None

    def ask(self, enabled: bool, key: str) -> None:
        """Switch the question on for this form, keeping a posted token or making one."""
        self.challenge_on, self.challenge_key = enabled, key or ""
        # the question the sender was shown: only an answer to it counts (a forged or
        # expired token is replaced for the next try, never answered in its place)
        self.challenge_posed = (read_challenge(self.challenge_token.data, self.challenge_key)
                                if enabled else None)
        if enabled and self.challenge_posed is None:
            self.challenge_token.data = new_challenge(self.challenge_key)

    @property
    def challenge_question(self) -> str:
        data = read_challenge(self.challenge_token.data, self.challenge_key)
        return question_text(data) if data else ""

    def validate_challenge_answer(self, field) -> None:
        if not self.challenge_on:
            return
        data = self.challenge_posed
        given = parse_number(field.data)
        if data is not None and given == answer_of(data):
            return
        # a new question each time: guessing through one question is not possible
        self.challenge_token.data = new_challenge(self.challenge_key)
        field.data = ""
        if given is None:
            raise ValidationError(_("Answer the question with a number."))
        raise ValidationError(_("That answer is not right; here is another question."))
