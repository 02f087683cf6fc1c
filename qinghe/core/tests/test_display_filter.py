"""``choice_label`` (and the ``display`` template filter) answers what ``get_<field>_display``
answers."""

from __future__ import annotations

from django.db import models
from django.template import Context, Template
from django.utils import translation

from qinghe.alliance.models import Membership
from qinghe.core.labels import choice_label
from qinghe.core.templatetags.qinghe import register
from qinghe.jobs.models import Posting
from qinghe.recruitment.models import Interview
from qinghe.talents.models import Education, Talent


def test_display_equals_get_field_display_for_every_choice_and_an_unknown_value() -> None:
    cases = [
        (Talent, "status"),
        (Talent, "native_evidence"),
        (Talent, "verification"),
        (Education, "level"),
        (Interview, "state"),
        (Posting, "kind"),
        (Membership, "role"),
    ]
    display = register.filters["display"]
    with translation.override("zh-hans"):
        seen = 0
        for model, name in cases:
            field = model._meta.get_field(name)
            assert isinstance(field, models.Field)
            for value in [v for v, _label in field.flatchoices] + ["no_such_value", ""]:
                obj = model(**{name: value})
                expected = getattr(obj, f"get_{name}_display")()
                assert choice_label(obj, name) == expected, (model, name, value)
                assert display(obj, name) == expected, (model, name, value)
                seen += 1
        assert seen > 20
        shown = Template('{% load qinghe %}{{ t|display:"status" }}').render(
            Context({"t": Talent(status=Talent.Status.STUDYING)})
        )
        assert (
            shown
            == str(Talent.Status.STUDYING.label)
            == Talent(status="studying").get_status_display()
        )


def test_the_kept_labels_follow_the_requests_language() -> None:
    obj = Talent(status=Talent.Status.STUDYING)
    for language in ("zh-hans", "en", "zh-hans"):
        with translation.override(language):
            assert choice_label(obj, "status") == obj.get_status_display()
    with translation.override("en"):
        english = obj.get_status_display()
    with translation.override("zh-hans"):
        assert english != obj.get_status_display()  # the label has an English translation
