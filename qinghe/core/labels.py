"""The label of a field's choice, as ``obj.get_<field>_display()`` gives it, without its cost:
Django's builds a hashable copy of the field's choices on every call, translating every label
(a list of 50 rows with two such columns: ~700 translations). This looks the value up and
translates only the label shown. The template filter ``display`` (qinghe.core.templatetags)
is this function."""

from __future__ import annotations

from typing import Any

from django.utils.encoding import force_str

# Each field's choices as a dict, made once per process: the labels stay lazy (translated
# when shown, in the language of that request); choices are fixed with the code.
_LABELS: dict[Any, dict[Any, Any]] = {}


def choice_label(obj: Any, field_name: str) -> Any:
    field = obj._meta.get_field(field_name)
    labels = _LABELS.get(field)
    if labels is None:
        labels = _LABELS[field] = dict(field.flatchoices)
    value = getattr(obj, field.attname)
    return force_str(labels.get(value, value), strings_only=True)
