from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``counts|get_item:"missing"`` — dictionary lookup with a variable key."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def get_field_label(form, name):
    """The label a person saw for a form field, for error summaries."""
    field = form.fields.get(name)
    return field.label if field is not None else name
