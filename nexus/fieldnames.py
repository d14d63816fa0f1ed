"""Fields and filters named by a Python keyword.

A query parameter or a response field may be called ``from`` (``?from=2026-01-01``), but a class
body cannot declare an attribute of that name. Declare it with PEP 8's trailing underscore,
``from_ = ...``, in a serializer with ``KeywordFields`` or a django-filter ``FilterSet`` with
``KeywordFilters``: the request, the validated data, the errors, the response and the OpenAPI
schema then all say ``from``.
"""

import keyword


def public_name(name: str) -> str:
    """``from_`` -> ``from``; any other name as it is."""
    stem = name.removesuffix("_")
    return stem if stem != name and keyword.iskeyword(stem) else name


def _renamed(declared: dict) -> dict:
    return {public_name(name): item for name, item in declared.items()}


# For a DRF serializer: ``from_`` declares the field ``from``. (A comment, not a docstring: the schema
# generator would show a mixin's docstring as the description of every serializer using it.)
class KeywordFields:

    def get_fields(self):
        return _renamed(super().get_fields())


# For a django-filter ``FilterSet``: ``from_`` declares the filter (the query parameter) ``from``.
class KeywordFilters:

    @classmethod
    def get_filters(cls):
        return _renamed(super().get_filters())
