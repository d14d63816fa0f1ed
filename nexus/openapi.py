"""OpenAPI post-processing: document the error answers every operation can give.

Views list the errors of their own logic (``api.views.common.ERRORS``); the answers that come
from the framework around them (no or bad token, IP blacklist, throttles, a bad page number, an
unparsable or oversized body, an over-long URL or header) apply to every operation alike and are added here, all with the
contract's error shape, so clients and the schema fuzzer see every status the API really returns.
"""

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
            "code": {"type": "string"},
            "message": {"type": "string"},
            "details": {"type": "object", "additionalProperties": {}},
        },
        "required": ["code", "details", "message"],
    },
}
DESCRIPTIONS = {
    "400": "Validation error (`validation_error`)",
    "401": "Not authenticated, invalid or revoked token (`not_authenticated`, `token_invalid`), access token past its expiry (`token_expired`: refresh it), a user blocked by staff (`account_blocked`)",
    "403": "Staff only, or blocked IP (`permission_denied`, `ip_blocked`)",
    "404": "Not found, someone else's, or no such page (`not_found`)",
    "413": "Request body too large (`request_too_large`)",
    "414": "Path and query string too long (`uri_too_long`)",
    "415": "Body is not JSON (`unsupported_media_type`)",
    "429": "Throttled or locked out (`throttled`, `locked_out`)",
    "431": "A header line too long, or too many header fields (`headers_too_large`)",
    "503": "Busy, retry shortly (`busy`)",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
# A schema property marked with this (via ``extend_schema_field``) is not always present in responses.
OPTIONAL_MARK = "x-nexus-optional"


def _statuses(method: str, operation: dict) -> list[str]:
    parameters = operation.get("parameters", [])
    statuses = ["403", "414", "429", "431"]
    if operation.get("security") and any(requirement for requirement in operation["security"]):
        statuses.append("401")
    if parameters or "requestBody" in operation:
        statuses.append("400")
    if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
        statuses.append("404")
    if method in WRITE_METHODS:
        statuses += ["413", "415", "503"]
    return statuses


def _unmark_optional(schemas: dict) -> None:
    for component in schemas.values():
        properties = component.get("properties", {})
        for name, prop in properties.items():
            if isinstance(prop, dict) and prop.pop(OPTIONAL_MARK, False) and name in component.get("required", []):
                component["required"].remove(name)


def document_errors(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in ERROR_SCHEMAS.items():
        schemas.setdefault(name, schema)
    _unmark_optional(schemas)
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "head", "options", "trace"} | WRITE_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in _statuses(method, operation):
                responses.setdefault(status, {
                    "content": {"application/json": {"schema": ERROR_REF}},
                    "description": DESCRIPTIONS[status],
                })
    return result
