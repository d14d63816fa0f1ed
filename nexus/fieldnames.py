"""Serializer fields as the project declares them: named by a Python keyword, and copied cheaply.

Named by a keyword:

A query parameter or a response field may be called ``from`` (``?from=2026-01-01``), but a class
body cannot declare an attribute of that name. Declare it with PEP 8's trailing underscore,
``from_ = ...``, in a serializer with ``KeywordFields`` or a django-filter ``FilterSet`` with
``KeywordFilters``: the request, the validated data, the errors, the response and the OpenAPI
schema then all say ``from``.

Copied cheaply: DRF deep-copies every declared field for every serializer it makes (each field built
again from its arguments, its validators too). ``PlainFields`` copies a field that holds no other field
shallowly instead (its list of validators copied too): nothing in a plain field changes while a request is
validated, and binding sets the copy's own name and parent. A nested serializer or a field with a child is deep-copied as DRF does.
Every request body (``api.serializers.fields.JSONTypes``) and every query or keyword-named serializer
(``KeywordFields``) has it: an external transfer's body 173 -> 102 us to validate in-process.
"""

import copy
import keyword


def public_name(name: str) -> str:
    """``from_`` -> ``from``; any other name as it is."""
    stem = name.removesuffix("_")
    return stem if stem != name and keyword.iskeyword(stem) else name


def _renamed(declared: dict) -> dict:
    return {public_name(name): item for name, item in declared.items()}


def _holds_fields(field) -> bool:
    return hasattr(field, "_declared_fields") or hasattr(field, "child") or hasattr(field, "child_relation")


# For a DRF serializer (not a ModelSerializer, which builds its fields from the model): declared fields
# copied shallowly unless they hold fields. (Comments, not docstrings: the schema generator would show a
# mixin's docstring as the description of every serializer using it.)
class PlainFields:

    def get_fields(self):
        if hasattr(self, "build_field"):  # a ModelSerializer
            return super().get_fields()
        return {name: copy.deepcopy(field) if _holds_fields(field) else _copy(field)
                for name, field in self._declared_fields.items()}


def _copy(field):
    # What ``copy.copy`` makes (a new instance with the same attributes), without its reduction protocol
    # (4 us a field; DRF's ``Field.__new__`` only records the arguments, which the attributes carry).
    plain = object.__new__(type(field))
    plain.__dict__.update(vars(field))
    if "_validators" in vars(field):  # a list: one appended to must not grow every later copy's
        plain._validators = list(field._validators)
    return plain


# For a DRF serializer: ``from_`` declares the field ``from``.
class KeywordFields(PlainFields):

    def get_fields(self):
        return _renamed(super().get_fields())


# For a django-filter ``FilterSet``: ``from_`` declares the filter (the query parameter) ``from``.
class KeywordFilters:

    @classmethod
    def get_filters(cls):
        return _renamed(super().get_filters())
