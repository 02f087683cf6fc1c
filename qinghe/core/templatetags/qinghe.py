from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from qinghe.core import masking
from qinghe.core.labels import choice_label

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context: dict[str, Any], **kwargs: Any) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        params[key] = value
    return urlencode(sorted(params.lists()), doseq=True)


register.filter("display", choice_label)  # ``{{ obj|display:"status" }}``
register.filter("mask_id", masking.mask_id_number)
register.filter("mask_phone", masking.mask_phone)
register.filter("mask_name", masking.mask_name)


@register.filter
def bs(field: Any) -> str:
    """Renders a bound form field's widget with Bootstrap classes (and is-invalid on errors)."""
    widget = field.field.widget
    input_type = getattr(widget, "input_type", "")
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        # One Bootstrap .form-check per choice; Django's own rendering would put the class on
        # the wrapping <div> too and squeeze the labels into a 1em-wide column.
        css = "form-check-input" + (" is-invalid" if field.errors else "")
        choices = list(field.subwidgets)
        for choice in choices:
            choice.data["attrs"] = {**choice.data["attrs"], "class": css}
        return format_html(
            '<div id="{}">{}</div>',
            field.auto_id,
            format_html_join(
                "",
                '<div class="form-check">{}<label class="form-check-label" for="{}">{}</label></div>',
                ((c.tag(wrap_label=False), c.id_for_label, c.choice_label) for c in choices),
            ),
        )
    if input_type == "checkbox":
        css = "form-check-input"
    elif input_type == "select" or field.field.widget.__class__.__name__.endswith("Select"):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key, key) if hasattr(mapping, "get") else key


_TENTH = Decimal("0.1")


@register.filter
def one_decimal(value: Any) -> str:
    """``floatformat:1`` for a plain number (a score, a reason's points), the same text — the
    number as written, rounded half up to one decimal — without floatformat's localisation
    machinery, which cost 为你推荐 a tenth of its CPU (80 numbers a page). Not for numbers
    that need a thousands separator."""
    try:
        number = Decimal(str(float(value)))
    except (TypeError, ValueError, InvalidOperation):
        return ""
    if not number.is_finite():
        return str(value)
    rounded = number.quantize(_TENTH, rounding=ROUND_HALF_UP)
    return str(rounded if rounded else rounded.copy_abs())  # -0.0 reads 0.0, as floatformat
