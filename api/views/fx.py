"""Foreign exchange: the current rates and a quote, exactly as a transfer would convert (api.services.fx)."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import exceptions, money, serializers
from ..services import fx
from .common import errors, response_example


class FxRatesView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Exchange rates",
        description="Units of each currency per 1 JOD, as the bank uses them now; `as_of` is when they took "
                    "effect. No authentication needed.",
        responses={200: serializers.FxRatesSerializer},
        examples=[response_example("Rates", {"base": "JOD", "rates": {"EUR": "1.31", "USD": "1.41"},
                                             "as_of": "2026-01-01T00:00:00Z"}, status=200)],
    )
    def get(self, request):
        rates, as_of = fx.current_rates()
        return Response(serializers.FxRatesSerializer({
            "base": money.BASE_CURRENCY,
            "rates": {currency: format(rate.normalize(), "f") for currency, rate in sorted(rates.items())},
            "as_of": as_of,
        }).data)


# The query's currencies with the values of the answer's example, so that Execute in Swagger UI asks for that quote.
QUOTE_CURRENCIES = [
    OpenApiParameter(name, str, required=True, enum=list(money.CURRENCIES), description=description,
                     examples=[OpenApiExample(value, value=value)])
    for name, description, value in (("from", "The currency of `amount`.", "USD"),
                                     ("to", "The currency to convert into.", "EUR"))]


class FxQuoteView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Quote a conversion",
        description="What a transfer of `amount` (in `from`) would credit in `to`, rounded **down** to `to`'s "
                    "minor unit exactly as a transfer would. USD to EUR goes through JOD. No authentication needed.",
        parameters=[serializers.FxQuoteQuerySerializer, *QUOTE_CURRENCIES],
        responses={200: serializers.FxQuoteSerializer, **errors(
            (exceptions.InvalidInput, "`amount` has more decimals than `from` allows."),
            (exceptions.AmountTooSmall, "the conversion would credit nothing."))},
        examples=[response_example("100 USD in EUR", {"from": "USD", "to": "EUR", "amount": "100.00",
                                                      "converted_amount": "92.90", "rate": "0.929078"},
                                   status=200)],
    )
    def get(self, request):
        query = serializers.FxQuoteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        source, target, amount = query.validated_data["from"], query.validated_data["to"], query.validated_data["amount"]
        converted, rate = fx.quote(amount, source, target)
        return Response(serializers.FxQuoteSerializer({
            "from": source, "to": target, "amount": money.fmt(amount, source),
            "converted_amount": money.fmt(converted, target),
            "rate": None if rate is None else format(rate.normalize(), "f"),
        }).data)
