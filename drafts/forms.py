"""Forms for drafts, comments and moderation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from app.abuse import Challenge, Honeypot
from app.forms import Form, choices

STANCE_LABELS = {
    "support": _l("Support"),
    "oppose": _l("Oppose"),
    "suggest": _l("Suggest a change"),
}
AGE_BAND_LABELS = {
    "": _l("Prefer not to say"),
    "under_18": _l("Under 18"),
    "18_29": _l("18–29"),
    "30_44": _l("30–44"),
    "45_59": _l("45–59"),
    "60_plus": _l("60 or older"),
}
STATUS_LABELS = {
    "draft": _l("Not published"),
    "open": _l("Open for comment"),
    "closed": _l("Comment closed"),
    "adopted": _l("Adopted"),
}
COMMENT_STATUS_LABELS = {
    "unconfirmed": _l("Waiting for e-mail confirmation"),
    "pending": _l("Waiting for moderation"),
    "published": _l("Published"),
    "hidden": _l("Hidden"),
    "rejected": _l("Rejected as spam"),
    "recorded": _l("Received (not listed publicly)"),
}
KIND_LABELS = {
    "part": _l("part"),
    "subpart": _l("sub-part"),
    "chapter": _l("chapter"),
    "section": _l("section"),
    "article": _l("article"),
    "paragraph": _l("paragraph"),
    "item": _l("item"),
    "subitem": _l("sub-item"),
}


def lines(text: str | None) -> list[str]:
    """Split a textarea into its non-empty, stripped lines."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class DraftForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    slug = StringField(
        _l("URL name"),
        validators=[Optional(), Length(max=100),
                    Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                           message=_l("Use lower-case letters, digits and hyphens only."))],
        description=_l("Optional; made from the title when empty."),
    )
    summary = TextAreaField(_l("Summary"), validators=[Length(max=5000)])
    explanation = TextAreaField(_l("Drafting explanation"), validators=[Length(max=50000)])
    office = StringField(_l("Responsible office"), validators=[Length(max=200)])
    opens_at = DateTimeLocalField(_l("Comments open"), validators=[Optional()],
                                  format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField(_l("Comments close"), validators=[Optional()],
                                   format="%Y-%m-%dT%H:%M")
    moderation = RadioField(
        _l("Moderation"),
        choices=choices([("pre", _l("Before publication")), ("post", _l("After publication"))]),
        default="pre",
    )
    allow_guests = BooleanField(_l("Allow comments without an account (name and e-mail)"))
    sectors = TextAreaField(_l("Sectors offered to commenters, one per line"),
                            validators=[Length(max=5000)])
    regions = TextAreaField(_l("Regions offered to commenters, one per line"),
                            validators=[Length(max=5000)])
    version_label = StringField(_l("Version label"), default="征求意见稿",
                                validators=[DataRequired(), Length(max=100)])
    text = TextAreaField(_l("Text of the draft"), validators=[Length(max=2_000_000)],
                         description=_l("Paste the text, or upload a file below."))
    upload = FileField(_l("Or upload a file (.txt, .md, .docx)"),
                       validators=[FileAllowed(["txt", "md", "docx"],
                                               _l("Upload a .txt, .md or .docx file."))])

    def validate_closes_at(self, field) -> None:
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The comment window must close after it opens."))


class DraftEditForm(DraftForm):
    """The same fields; the text is only replaced when given."""


class CommentForm(Honeypot, Challenge, Form):
    stance = RadioField(
        _l("Your position"),
        choices=choices(STANCE_LABELS.items()),
        validators=[DataRequired(message=_l("Choose whether you support, oppose or suggest a "
                                            "change."))],
    )
    body = TextAreaField(
        _l("Your comment"),
        validators=[DataRequired(message=_l("Write your comment.")), Length(max=5000)],
    )
    proposed_wording = TextAreaField(_l("Proposed wording (optional)"),
                                     validators=[Length(max=5000)])
    region = SelectField(_l("Your region"), choices=[], validate_choice=False,
                         validators=[Length(max=100)])
    sector = SelectField(_l("Your sector or occupation"), choices=[], validate_choice=False,
                         validators=[Length(max=100)])
    age_band = SelectField(_l("Age band"), choices=choices(AGE_BAND_LABELS.items()), default="")
    guest_name = StringField(_l("Your name"), validators=[Optional(), Length(max=100)])
    guest_email = EmailField(_l("Your e-mail (to confirm the comment; never published)"),
                             validators=[Optional(), Email(), Length(max=254)])
    submission_key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])

    def offer_choices(self, regions: list[str], sectors: list[str]) -> None:
        """Offer the draft's regions and sectors, or free text when staff set none."""
        blank = [("", _l("Prefer not to say"))]
        self.region.choices = choices(blank + [(r, r) for r in regions])
        self.sector.choices = choices(blank + [(s, s) for s in sectors])


class ModerationForm(FlaskForm):
    action = SelectField(
        _l("Decision"),
        choices=choices([("publish", _l("Publish")), ("hide", _l("Hide")),
                         ("reject", _l("Reject as spam"))]),
    )
    reason = StringField(_l("Reason"), validators=[Length(max=500)])


class StatusForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])
    reason = StringField(_l("Reason (optional)"), validators=[Length(max=500)])


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""
