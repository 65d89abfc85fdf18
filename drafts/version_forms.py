"""Forms for adding a version and correcting how two versions pair up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import choices


class VersionForm(FlaskForm):
    label = StringField(_l("Version label"), validators=[DataRequired(), Length(max=100)],
                        render_kw={"list": "version-labels", "autocomplete": "off"},
                        description=_l("Such as 征求意见稿, 一审稿, 二审稿, 三审稿 or 通过稿; "
                                       "any other text is accepted."))
    note = TextAreaField(_l("Note"), validators=[Length(max=5000)],
                         description=_l("What this version is, e.g. the text submitted for the "
                                        "second reading."))
    text = TextAreaField(_l("Text of the version"), validators=[Length(max=2_000_000)],
                         description=_l("Paste the text, or upload a file below."))
    upload = FileField(_l("Or upload a file (.txt, .md, .docx)"),
                       validators=[FileAllowed(["txt", "md", "docx"],
                                               _l("Upload a .txt, .md or .docx file."))])
    make_current = BooleanField(
        _l("Make this the current version: the public reads it and comments on it"),
        default=True)


class PairingForm(FlaskForm):
    """Staff say which old articles became which new ones; an empty side forces an
    insertion or a deletion."""

    old = SelectMultipleField(_l("Articles of the older version"), choices=[],
                              description=_l("None: the new articles are insertions."))
    new = SelectMultipleField(_l("Articles of the newer version"), choices=[],
                              description=_l("None: the old articles were deleted."))

    def offer(self, old: list[tuple[str, str]], new: list[tuple[str, str]]) -> None:
        """Offer the articles of both versions as (anchor, label) pairs."""
        self.old.choices = choices(old)
        self.new.choices = choices(new)


#: how each row of a comparison is described on screen and in the exports
CHANGE_LABELS = {
    "unchanged": _l("Unchanged"),
    "renumbered": _l("Renumbered"),
    "modified": _l("Modified"),
    "moved": _l("Moved"),
    "split": _l("Split"),
    "merged": _l("Merged"),
    "inserted": _l("Inserted"),
    "deleted": _l("Deleted"),
}
