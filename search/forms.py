"""The search form: a GET form, without CSRF (it changes nothing)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from app.forms import Form, choices
from drafts.forms import STANCE_LABELS

TYPE_LABELS = {"clause": _l("Clauses"), "comment": _l("Comments"), "note": _l("Hearing notes")}
SORT_LABELS = {"relevance": _l("Best match"), "date": _l("Newest first")}


class SearchForm(Form):
    """What the results page reads from the query string."""

    class Meta:
        csrf = False

    q = StringField(_l("Search for"), validators=[Optional()],
                    description=_l("Words or exact phrases in quotes; OR, NOT and a * after a "
                                   "word work too."))
    type = SelectField(_l("Kind"), choices=choices([("", _l("Everything")),
                                                    *TYPE_LABELS.items()]),
                       validators=[Optional()])
    stance = SelectField(_l("Position"), choices=choices([("", _l("Any position")),
                                                          *STANCE_LABELS.items()]),
                         validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    sort = SelectField(_l("Order"), choices=choices(SORT_LABELS.items()), default="relevance",
                       validators=[Optional()])
    unpublished = BooleanField(_l("Include unpublished items (pending, hidden and rejected "
                                  "comments, staff notes)"))
    # set by facet links and "search within this draft"
    draft = IntegerField(validators=[Optional()])
    version = IntegerField(validators=[Optional()])
    clause = IntegerField(validators=[Optional()])
    disposition = HiddenField(validators=[Optional()])
    region = HiddenField(validators=[Optional()])
    sector = HiddenField(validators=[Optional()])
    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=500)])
