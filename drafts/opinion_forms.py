"""Forms for compiling opinions: the workspace filters and bulk actions, dispositions and their
review, offline opinions, deputies' suggestions, and the feedback e-mail setting."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from app.forms import Form, choices
from drafts import opinions, services
from drafts.forms import STANCE_LABELS
from drafts.models import COMMENTABLE_KINDS, OFFLINE_SOURCES, DraftVersion


def clause_choices(version: DraftVersion | None, *, blank: str) -> list:
    """Offer the commentable units of a version by citation, after a blank choice."""
    pairs: list[tuple[str, object]] = [("", blank)]
    if version is not None:
        stack = list(reversed(services.clause_tree(version)))
        while stack:
            node = stack.pop()
            if node.clause.kind in COMMENTABLE_KINDS:
                label = node.citation
                if node.clause.kind == "article" and node.clause.heading:
                    label = f"{label} {node.clause.heading}"
                pairs.append((str(node.clause.id), label))
            stack.extend(reversed(node.children))
    return choices(pairs)


class FilterForm(Form):
    """What the workspace shows; sent by GET, so without a CSRF token."""

    class Meta:
        csrf = False

    clause = SelectField(_l("Article"), choices=[], validate_choice=False)
    source = SelectField(_l("Source"), choices=[], validate_choice=False)
    stance = SelectField(_l("Stance"), choices=[], validate_choice=False)
    outcome = SelectField(_l("Disposition"), choices=[], validate_choice=False)
    review = SelectField(_l("Review"), choices=[], validate_choice=False)
    topic = SelectField(_l("Topic"), choices=[], validate_choice=False)
    q = StringField(_l("Words in the text"), validators=[Length(max=200)])
    campaigns = BooleanField(_l("Only opinions in campaigns"))
    by_topic = BooleanField(_l("Group by topic instead of by article"))

    def offer(self, articles, topics: list[str], review: bool) -> None:
        """Fill the choices from the draft's newest articles and topics."""
        everything = _l("All")
        self.clause.choices = choices(
            [("", everything), (opinions.WHOLE_DRAFT, _l("The draft as a whole"))]
            + [(str(a.id), f"{a.label} {a.heading}".strip()) for a in articles]
            + [(opinions.NOT_IN_TEXT, _l("Text no longer in the newest version"))])
        self.source.choices = choices([("", everything), *opinions.SOURCE_LABELS.items()])
        self.stance.choices = choices([("", everything), *STANCE_LABELS.items()])
        self.outcome.choices = choices([("", everything), ("none", _l("Not yet decided")),
                                        *opinions.OUTCOME_LABELS.items()])
        self.review.choices = choices([("", everything), *opinions.REVIEW_LABELS.items()]
                                      if review else [("", everything)])
        self.topic.choices = choices([("", everything)] + [(t, t) for t in topics])

    def filters(self) -> opinions.Filters:
        """Return the filters as plain data."""
        return opinions.Filters(
            clause=self.clause.data or "", source=self.source.data or "",
            stance=self.stance.data or "", outcome=self.outcome.data or "",
            review=self.review.data or "", topic=self.topic.data or "",
            q=(self.q.data or "").strip(), campaigns=bool(self.campaigns.data),
            by_topic=bool(self.by_topic.data))


class DispositionForm(Form):
    """A disposition for one opinion, or for the opinions selected in the workspace."""

    outcome = RadioField(_l("Disposition"), choices=choices(opinions.OUTCOME_LABELS.items()),
                         validators=[DataRequired(message=_l("Choose a disposition."))])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=opinions.MAX_REASON)],
                           description=_l("Required unless the opinion is adopted in full. "
                                          "The commenter and the public read it."))
    clause = SelectField(_l("Clause of the newest text it affected"), choices=[],
                         validate_choice=False)
    whole_clusters = BooleanField(_l("Apply to every opinion of the selected campaigns"))


class BulkForm(DispositionForm):
    """The workspace's bulk actions on the selected opinions."""

    # not required here: other actions need none, and deciding without one is refused by
    # opinions.decide with the same message
    outcome = RadioField(_l("Disposition"), choices=choices(opinions.OUTCOME_LABELS.items()),
                         validate_choice=False, validators=[Optional()])
    ids = SelectMultipleField(_l("Selected opinions"), coerce=int, validate_choice=False)
    #: decide, topic, approve or return: the value of the button pressed
    action = StringField()
    topic = StringField(_l("Topic"), validators=[Length(max=100)])
    note = StringField(_l("Why the decisions are returned"), validators=[Length(max=500)])
    #: the workspace page (path and query) to go back to
    back = HiddenField()


class ReviewForm(Form):
    """A reviewer's approval or return of one disposition."""

    approve = RadioField(_l("Review"), choices=choices([
        ("yes", _l("Approve the decision")), ("no", _l("Return it to be decided again"))]),
        validators=[DataRequired(message=_l("Choose whether to approve the decision."))])
    note = StringField(_l("Note"), validators=[Length(max=500)],
                       description=_l("Required when the decision is returned."))


class OfflineOpinionForm(Form):
    """An opinion received by letter, e-mail, at a symposium or on a research trip."""

    source = SelectField(_l("Where it came from"), choices=choices(
        [(s, opinions.SOURCE_LABELS[s]) for s in OFFLINE_SOURCES]))
    source_detail = StringField(_l("Occasion or sender"), validators=[Length(max=300)],
                                description=_l("For example 东城区居民座谈会 or 市律师协会来函."))
    received_at = DateField(_l("Date received or held"), validators=[Optional()])
    clause = SelectField(_l("Clause"), choices=[], validate_choice=False)
    stance = RadioField(_l("Stance"), choices=choices(STANCE_LABELS.items()),
                        validators=[DataRequired(message=_l(
                            "Choose whether it supports, opposes or suggests a change."))])
    body = TextAreaField(_l("The opinion"), validators=[
        DataRequired(message=_l("Write the opinion.")), Length(max=opinions.MAX_TEXT)])
    proposed_wording = TextAreaField(_l("Proposed wording (optional)"),
                                     validators=[Length(max=opinions.MAX_TEXT)])
    name = StringField(_l("Name of the person or body (optional)"),
                       validators=[Length(max=100)])
    email = EmailField(_l("E-mail for the feedback (optional; never published)"),
                       validators=[Optional(), Email(), Length(max=254)])
    region = StringField(_l("Region (optional)"), validators=[Length(max=100)])
    sector = StringField(_l("Sector (optional)"), validators=[Length(max=100)])
    submission_key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])


class SuggestionForm(Form):
    """A deputy's suggestion (代表建议) on the draft or one of its clauses."""

    clause = SelectField(_l("Clause"), choices=[], validate_choice=False)
    stance = RadioField(_l("Your position"), choices=choices(STANCE_LABELS.items()),
                        validators=[DataRequired(message=_l(
                            "Choose whether you support, oppose or suggest a change."))])
    body = TextAreaField(_l("Your suggestion"), validators=[
        DataRequired(message=_l("Write your suggestion.")), Length(max=opinions.MAX_TEXT)])
    proposed_wording = TextAreaField(_l("Proposed wording (optional)"),
                                     validators=[Length(max=opinions.MAX_TEXT)])
    submission_key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])


class ReviewSettingForm(Form):
    review_required = BooleanField(_l("A second staff member reviews every disposition"))


class FeedbackSettingForm(Form):
    feedback_emails = BooleanField(_l("E-mail me when my opinions are decided"))


class ConfirmForm(Form):
    """A form with nothing but its CSRF token, behind a button."""
