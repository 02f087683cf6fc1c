"""The label of a field's choice, as ``obj.get_<field>_display()`` gives it, without its cost:
Django's builds a hashable copy of the field's choices on every call, translating every label
(a list of 50 rows with two such columns: ~700 translations). This looks the value up and
translates only the label shown. The template filter ``display`` (qinghe.core.templatetags)
is this function."""

from __future__ import annotations

from typing import Any

from django.utils.encoding import force_str


def choice_label(obj: Any, field_name: str) -> Any:
    field = obj._meta.get_field(field_name)
    value = getattr(obj, field.attname)
    return force_str(dict(field.flatchoices).get(value, value), strings_only=True)
