"""Content negotiation: DRF's, with ``?format=`` as strict as every other query parameter."""

from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation


class StrictContentNegotiation(DefaultContentNegotiation):
    """``?format=`` sent empty is a 400, as an empty list filter (nexus.filters) or date (api.bounds) is.

    DRF ignores an empty format and answers JSON: a client whose ``csv`` went missing would get a
    document it did not ask for. An unknown format stays DRF's 404.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        name = self.settings.URL_FORMAT_OVERRIDE
        if not format_suffix and name and name in request.query_params and not request.query_params.get(name):
            raise ValidationError({name: ["Must not be empty."]})
        return super().select_renderer(request, renderers, format_suffix)
