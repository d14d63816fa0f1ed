"""The OpenAPI document as drf-spectacular generates it, and a strict validator for what it declares.

Shared by the checks of the examples (tests/nexus/test_schema_docs.py) and of real responses
(tests/nexus/test_honest_serializers.py).
"""

import datetime as dt
import json
import re
from functools import cache
from urllib.parse import urlsplit

import jsonschema
from drf_spectacular.generators import SchemaGenerator

from api.identifiers import is_valid_account_number

ACCOUNT_NUMBER_PATTERN = r"^\d{12}$"
METHODS = {"get", "post", "put", "patch", "delete"}


@cache
def openapi() -> dict:
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


def operations():
    """(method, path, operation) for every operation in the document."""
    for path, item in openapi()["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def strict(schema):
    """An OpenAPI 3.0 schema as plain JSON Schema: references inlined, ``nullable`` as a null type,
    and no property an object does not document, so a misspelt or undeclared field fails."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return strict(openapi()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    resolved = {key: strict(value) for key, value in schema.items()
                if key not in ("nullable", "example", "readOnly", "writeOnly", "x-nexus-optional")}
    if schema.get("nullable"):
        resolved = {"anyOf": [resolved, {"type": "null"}]}
    elif "properties" in resolved and "additionalProperties" not in resolved:
        resolved["additionalProperties"] = False
    return resolved


def _check_digit_pattern(validator, pattern, instance, schema):
    yield from jsonschema.Draft7Validator.VALIDATORS["pattern"](validator, pattern, instance, schema)
    if pattern == ACCOUNT_NUMBER_PATTERN and isinstance(instance, str) and not is_valid_account_number(instance):
        yield jsonschema.ValidationError(f"{instance!r} has a wrong check digit")


Validator = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": _check_digit_pattern})

# Every format jsonschema knows, and the two it checks only with packages we do not need elsewhere.
FORMATS = jsonschema.FormatChecker()
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    return not isinstance(value, str) or bool(RFC3339.fullmatch(value) and dt.datetime.fromisoformat(value))


@FORMATS.checks("uri")
def _uri(value) -> bool:
    return not isinstance(value, str) or (urlsplit(value).scheme in ("http", "https") and bool(urlsplit(value).netloc))


def errors(value, schema) -> list[str]:
    """What in ``value`` the (OpenAPI) ``schema`` does not allow, strictly, formats included."""
    validator = Validator(strict(schema), format_checker=FORMATS)
    return [f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
            for error in validator.iter_errors(value)]


def is_error_schema(response: dict) -> bool:
    """Whether a response is the one error shape (``{"error": {code, message, details}}``), its ``code``
    typed per operation (nexus.openapi.typed_errors)."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema == {"$ref": "#/components/schemas/Error"} or set(schema.get("properties", {})) == {"error"}
