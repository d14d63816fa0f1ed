from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "details": serializers.DictField(),
            },
        )
    },
)

ERRORS = {
    code: OpenApiResponse(response=ErrorSerializer, description=text)
    for code, text in {
        400: "Validation error",
        401: "Not authenticated",
        403: "Forbidden",
        404: "Not found",
        409: "Idempotency key in use",
        422: "Refused by a business rule",
        429: "Throttled or locked out",
    }.items()
}
