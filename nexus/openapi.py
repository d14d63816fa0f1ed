"""OpenAPI generation: what drf-spectacular cannot see by itself.

``AutoSchema`` (every view's schema class) marks staff operations with the roles that may call
them, read from the role table that ``settings.STAFF_ROLE_GRANTS`` names (ground code imports no
app), and lists under each error status every contract code the operation can answer: its own,
declared by the view with ``error_response()`` descriptions, and the framework's (no or bad
token, IP blacklist, throttles, an unparsable or oversized body, an over-long URL or header),
which apply to every operation alike. ``postprocess`` adds the error schemas, ``/health/`` (a plain
Django view drf-spectacular does not list) and the tag groups ReDoc shows in its menu.
"""

import re
from http import HTTPStatus

from django.conf import settings
from django.utils.module_loading import import_string
from drf_spectacular import openapi
from drf_spectacular.drainage import get_override

from . import limits
from .permissions import StaffPermission

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMAS = {
    "Error": {
        "type": "object",
        "properties": {"error": {"$ref": "#/components/schemas/ErrorBody"}},
        "required": ["error"],
    },
    "ErrorBody": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "Stable, for programs: see the table in docs/API.md."},
            "message": {"type": "string", "description": "For people; may change."},
            "details": {"type": "object", "additionalProperties": {},
                        "description": "Per-field messages for `validation_error`; context for the others."},
        },
        "required": ["code", "details", "message"],
    },
}

# What each error status means, the first line of its description; the codes follow as a list.
STATUS_TITLES = {
    "400": "Malformed input; nothing changed.",
    "401": "Not authenticated.",
    "403": "Forbidden.",
    "404": "Not found.",
    "409": "Conflict.",
    "413": "Request body too large.",
    "414": "Request target too long.",
    "415": "Unsupported media type.",
    "422": "Refused by a business rule; nothing changed.",
    "429": "Too many requests.",
    "431": "Request header fields too large.",
    "503": "Busy; nothing changed.",
}


def _framework_codes() -> dict[str, str]:
    access_minutes = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() // 60)
    return {
        "validation_error": "a field is missing, malformed or out of bounds (`details` names each field).",
        "not_authenticated": "no `Authorization: Bearer <access token>` header.",
        "token_invalid": "the token is malformed, revoked (logout, password change, refresh reuse) or its user "
                         "is gone: log in again.",
        "token_expired": f"the access token is past its {access_minutes} minutes: get a new pair from "
                         "`POST /auth/jwt/refresh/`.",
        "account_blocked": "staff blocked this user: every token and session of theirs is refused until "
                           "they are unblocked.",
        "ip_blocked": "the client's IP address is on the blacklist.",
        "not_found": "no such object, someone else's, or a page past the end.",
        "request_too_large": f"the body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
        "uri_too_long": f"the path and query string exceed {limits.MAX_REQUEST_TARGET} bytes.",
        "unsupported_media_type": "the body is not `application/json`.",
        "throttled": "too many requests; `Retry-After` says when to try again.",
        "headers_too_large": f"a header line over {limits.MAX_HEADER_LINE} bytes, or more than "
                             f"{limits.MAX_HEADER_FIELDS} header fields.",
        "busy": "a row it needs stayed locked too long; retry after `Retry-After` seconds.",
    }


FRAMEWORK_STATUS = {"validation_error": "400", "not_authenticated": "401", "token_invalid": "401",
                    "token_expired": "401", "account_blocked": "401", "ip_blocked": "403", "permission_denied": "403", "not_found": "404",
                    "request_too_large": "413", "uri_too_long": "414", "unsupported_media_type": "415",
                    "throttled": "429", "headers_too_large": "431", "busy": "503"}
# General cases worth reading beside an operation's own text for the same code.
MERGED = {"validation_error", "permission_denied"}
WRITE_METHODS = {"post", "put", "patch", "delete"}
# A schema property marked with this (via ``extend_schema_field``) is not always present in responses.
OPTIONAL_MARK = "x-nexus-optional"


def code_line(code: str, text: str) -> str:
    return f"- `{code}`: {text}"


def describe_errors(status: int | str, codes: list[tuple[str, str]]) -> str:
    """An error response's description: what the status means, then each code it can carry."""
    description = STATUS_TITLES[str(status)]
    for code, text in codes:
        description = add_code(description, code, text)
    return description


def add_code(description: str, code: str, text: str, *, merge: bool = False) -> str:
    """Add a code to an error description. A code listed already keeps its text, or with ``merge``
    gets ``text`` as one more case, first (the framework's general case before the operation's own)."""
    lines = description.split("\n")
    for index, line in enumerate(lines):
        prefix = f"- `{code}`: "
        if line.startswith(prefix):
            if merge and text not in line:
                lines[index] = f"{prefix}{text.rstrip('.')}; or {line.removeprefix(prefix)}"
            return "\n".join(lines)
    return description + ("\n" if "\n- " in description else "\n\n") + code_line(code, text)


def roles_with(permissions: list[str]) -> list[str]:
    """The staff roles holding every one of ``permissions``, in the role table's order."""
    grants = import_string(settings.STAFF_ROLE_GRANTS)
    return [role for role, granted in grants.items() if set(permissions) <= set(granted)]


def staff_requirement(view, method: str) -> list[str] | None:
    """The permissions a staff operation asks for, or None when customers may call it."""
    if not any(isinstance(permission, StaffPermission) for permission in view.get_permissions()):
        return None
    return getattr(view, "staff_permissions", {}).get(method.upper(), [])


def staff_note(permissions: list[str]) -> str:
    roles = ", ".join(roles_with(permissions)) or "none"
    needs = ", ".join(f"`{permission}`" for permission in permissions)
    return f"**Staff only.** Roles: {roles} (and superusers). Permission: {needs}."


# A POST to a path ending in a verb names its operation by the path alone (``auth_jwt_create``, not
# drf-spectacular's ``auth_jwt_create_create``); identifiers never start with a digit (``2fa``), which
# generated clients turn into odd names.
VERB_ENDINGS = {"create", "refresh", "verify", "logout", "setup", "confirm", "disable", "change", "approve",
                "reject", "block", "unblock", "revoke", "reset", "quote", "deposit", "reverse", "read", "cancel",
                "unlock", "register"}


class AutoSchema(openapi.AutoSchema):
    def get_operation_id(self):
        operation_id = super().get_operation_id()
        tokens = operation_id.split("_")
        if self.method == "POST" and tokens[-1] == "create" and len(tokens) > 1 and (
                tokens[-2] in VERB_ENDINGS or tokens[-2].endswith("all")):
            tokens = tokens[:-1]
        return "_".join(tokens).replace("2fa", "two_factor")
    def _get_serializer_field_meta(self, field, direction):
        # drf-spectacular marks every non-blank request string minLength 1, over a longer minimum a
        # field declares with extend_schema_field (a password's 12): the declared one is the real one.
        meta = super()._get_serializer_field_meta(field, direction)
        declared = get_override(field, "field")
        if "minLength" in meta and isinstance(declared, dict) and declared.get("minLength", 0) > meta["minLength"]:
            meta["minLength"] = declared["minLength"]
        return meta

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        permissions = staff_requirement(self.view, method)
        if permissions is not None:
            operation["summary"] = f"{operation.get('summary', operation['operationId'])} (staff)"
            operation["description"] = "\n\n".join(filter(None, [staff_note(permissions),
                                                                 operation.get("description")]))
        self._add_framework_errors(method.lower(), operation, permissions)
        for status, response in operation["responses"].items():
            response["description"] = response.get("description") or f"{HTTPStatus(int(status)).phrase}."
            if int(status) >= 400:
                typed_errors(response)
        # Success first, then the errors, in the order of their status codes.
        operation["responses"] = dict(sorted(operation["responses"].items()))
        return operation

    def _add_framework_errors(self, method: str, operation: dict, permissions: list[str] | None) -> None:
        texts = _framework_codes()
        parameters = operation.get("parameters", [])
        inputs = [p for p in parameters if p["in"] in ("path", "query", "header")]
        codes = ["ip_blocked", "uri_too_long", "throttled", "headers_too_large"]
        requirements = operation.get("security", [])
        if requirements and any(requirements):
            # Optional authentication ({} among the requirements) still refuses a bad token.
            codes += ["token_invalid", "token_expired", "account_blocked"] + ([] if {} in requirements else ["not_authenticated"])
        if permissions is not None:
            roles = ", ".join(roles_with(permissions)) or "none"
            texts["permission_denied"] = (f"not staff, or no role of yours grants "
                                          f"{', '.join(f'`{p}`' for p in permissions)} (roles: {roles}).")
            codes.append("permission_denied")
        if inputs or "requestBody" in operation:
            codes.append("validation_error")
        if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
            codes.append("not_found")
        if method in WRITE_METHODS:
            codes.append("busy")
            if "requestBody" in operation:
                codes += ["request_too_large", "unsupported_media_type"]
        responses = operation.setdefault("responses", {})
        for code in codes:
            status = FRAMEWORK_STATUS[code]
            response = responses.setdefault(status, {"content": {"application/json": {"schema": ERROR_REF}},
                                                     "description": STATUS_TITLES[status]})
            response["description"] = add_code(response["description"], code, texts[code], merge=code in MERGED)


CODE_LINE = re.compile(r"^- `(\w+)`: (.+)$", re.MULTILINE)
# What ``details`` carries in the examples, where a code has more than an empty object.
EXAMPLE_DETAILS = {"validation_error": {"amount": ["A valid number is required."]},
                   "otp_required": {"reason": "amount"}}


def typed_errors(response: dict) -> None:
    """An error response's schema and examples from the codes its description lists (the same list the
    exception classes fill): ``code`` is an enum of exactly those, and each has an example carrying it."""
    codes = CODE_LINE.findall(response.get("description", ""))
    if response.get("content") and "application/json" not in response["content"]:
        # Errors are JSON whatever the operation answers when it succeeds (a CSV download's 404 too).
        response["content"] = {"application/json": next(iter(response["content"].values()))}
    content = response.get("content", {}).get("application/json")
    if not codes or content is None or content.get("schema") != ERROR_REF:
        return
    body = {**ERROR_SCHEMAS["ErrorBody"], "properties": {
        **ERROR_SCHEMAS["ErrorBody"]["properties"],
        "code": {**ERROR_SCHEMAS["ErrorBody"]["properties"]["code"], "enum": [code for code, _ in codes]}}}
    content["schema"] = {"type": "object", "properties": {"error": body}, "required": ["error"]}
    content["examples"] = {code: {"summary": code, "value": {"error": {
        "code": code, "message": _sentence(text), "details": EXAMPLE_DETAILS.get(code, {})}}} for code, text in codes}


def _sentence(text: str) -> str:
    plain = text.replace("`", "")
    return plain[:1].upper() + plain[1:]


def _health_body(state: str, database: str, error: bool) -> dict:
    """What ``nexus.health`` answers: its two fields and, when the database is away, the error of any 503."""
    body = {"type": "object", "required": ["status", "database"],
            "properties": {"status": {"type": "string", "enum": [state]},
                           "database": {"type": "string", "enum": [database]}}}
    if error:
        body["required"].append("error")
        body["properties"]["error"] = {"$ref": "#/components/schemas/ErrorBody"}
    else:
        body["required"].append("queue")
        body["properties"]["queue"] = {
            "type": "object", "required": ["waiting", "oldest_seconds", "failed"],
            "description": "The job queue (what committed operations still owe, carried out by the workers).",
            "properties": {"waiting": {"type": "integer", "description": "Jobs waiting for a worker."},
                           "oldest_seconds": {"type": "number", "description": "Age of the oldest waiting job."},
                           "failed": {"type": "integer", "description": "Jobs kept after failing (staff retry)."}}}
    return body


def _health() -> dict:
    """``GET /health/``, a plain Django view (no throttle, no authentication)."""
    codes = _framework_codes()
    errors = {FRAMEWORK_STATUS[code]: {"content": {"application/json": {"schema": ERROR_REF}},
                                       "description": describe_errors(FRAMEWORK_STATUS[code], [(code, codes[code])])}
              for code in ("ip_blocked", "uri_too_long", "headers_too_large")}
    for response in errors.values():
        typed_errors(response)
    return {"get": {
        "operationId": "health",
        "summary": "Health check",
        "description": "For load balancers and monitoring: 200 while the database answers, 503 when it "
                       "does not. No authentication. `queue` tells whether the workers keep up: a growing "
                       "`oldest_seconds` means no worker runs (the answer stays 200: the API still works).",
        "tags": ["ops"],
        "responses": {
            "200": {"description": "Up.", "content": {"application/json": {"schema": _health_body("ok", "ok", False)}}},
            "503": {"description": "The database cannot be reached: `service_unavailable`.",
                    "content": {"application/json": {"schema": _health_body("error", "unavailable", True)}}},
        } | errors,
    }}


def _unmark_optional(schemas: dict) -> None:
    for component in schemas.values():
        properties = component.get("properties", {})
        for name, prop in properties.items():
            if isinstance(prop, dict) and prop.pop(OPTIONAL_MARK, False) and name in component.get("required", []):
                component["required"].remove(name)


# --- response examples for operations that declare none ------------------------------------------
# Built from the response's schema, with the values ``settings.SCHEMA_SAMPLES`` gives per field name
# (the demo bank's accounts and money), else one per format or type: every success response shows a
# whole object a client can read, valid against its schema (tests/nexus/test_schema_docs.py).
FORMAT_SAMPLES = {"uuid": "3c2b1a09-8f7e-4d6c-a5b4-9e8d7c6b5a41", "date-time": "2026-03-14T09:30:12.345678Z",
                  "date": "2026-03-14", "email": "alice@nexus.local", "uri": None, "decimal": "250.000"}


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = {**components[schema["$ref"].rsplit("/", 1)[-1]],
                  **{key: value for key, value in schema.items() if key != "$ref"}}
    if len(schema.get("allOf", [])) == 1:
        schema = {**_resolve(schema["allOf"][0], components),
                  **{key: value for key, value in schema.items() if key != "allOf"}}
    return schema


def sample(schema: dict, components: dict, samples: dict, name: str = "", depth: int = 0):
    """A value valid against ``schema``, named ``name`` in its parent object."""
    schema = _resolve(schema, components)
    if name in samples and (samples[name] is not None or schema.get("nullable")):
        return samples[name]
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return next(value for value in schema["enum"] if value is not None)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind == "object":
        return {key: sample(prop, components, samples, key, depth + 1)
                for key, prop in schema.get("properties", {}).items() if not prop.get("writeOnly")}
    if kind == "array":
        return [sample(schema["items"], components, samples, name, depth + 1)] if depth < 6 else []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    value = FORMAT_SAMPLES.get(schema.get("format", ""), "text")
    return value if value is not None or schema.get("nullable") else "http://127.0.0.1:8000/"


def add_response_examples(result: dict) -> None:
    components = result.get("components", {}).get("schemas", {})
    samples = import_string(settings.SCHEMA_SAMPLES)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json")
                if status.startswith("2") and media and "schema" in media and not media.get("examples"):
                    media["examples"] = {"example": {"summary": response.get("description", "").split("\n")[0]
                                                     or "A typical answer",
                                                     "value": sample(media["schema"], components, samples)}}


def open_periods(result: dict) -> None:
    """A query's date or time bound (``from``, ``to``) without an example: Swagger UI fills a parameter's box
    with its example, and one fixed day as both ends of a period answers an empty list on *Execute*. Left
    empty, the period is the whole list (or the operation's default); the format stays in the schema and
    its description."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and schema.get("format") in ("date", "date-time"):
                    parameter["schema"] = {key: value for key, value in schema.items() if key != "example"}
                    parameter.pop("example", None)


def postprocess(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(ERROR_SCHEMAS)
    _unmark_optional(schemas)
    result.setdefault("paths", {})["/health/"] = _health()
    add_response_examples(result)
    open_periods(result)
    # ReDoc's menu: the customer's API first, then the staff's, then operations.
    tags = [tag["name"] for tag in result.get("tags", [])]
    staff = {"approvals", "audit", "users", "business", "risk"}
    result["x-tagGroups"] = [
        {"name": "Customers", "tags": [tag for tag in tags if tag not in staff | {"ops"}]},
        {"name": "Staff", "tags": [tag for tag in tags if tag in staff]},
        {"name": "Operations", "tags": [tag for tag in tags if tag == "ops"]},
    ]
    return result
