"""Content negotiation: DRF's, with ``?format=`` as strict as every other query parameter."""

from functools import cache
from types import SimpleNamespace

from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation

# What nearly every client sends (curl, browsers' fetch, HTTP libraries, our SDK examples): negotiated once
# per list of renderers, not once per request. Any other Accept header is negotiated by DRF as it comes.
_COMMON_ACCEPTS = frozenset({"*/*", "application/json"})


class StrictContentNegotiation(DefaultContentNegotiation):
    """``?format=`` sent empty is a 400, as an empty list filter (nexus.filters) or date (api.bounds) is.

    DRF ignores an empty format and answers JSON: a client whose ``csv`` went missing would get a
    document it did not ask for. An unknown format stays DRF's 404.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        name = self.settings.URL_FORMAT_OVERRIDE
        asks_format = bool(name) and name in request.query_params
        if not format_suffix and asks_format and not request.query_params.get(name):
            raise ValidationError({name: ["Must not be empty."]})
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if not format_suffix and not asks_format and accept in _COMMON_ACCEPTS:
            offered = tuple((renderer.media_type, renderer.format) for renderer in renderers)
            choice = _common_choice(offered, accept)
            if choice is not None:
                index, media_type = choice
                return renderers[index], media_type
        return super().select_renderer(request, renderers, format_suffix)


@cache  # keyed by what the views' renderers offer (a fixed set) and the two headers above
def _common_choice(offered: tuple[tuple[str, str], ...], accept: str) -> tuple[int, str] | None:
    """DRF's choice among renderers offering these (media type, format) pairs for a request with this Accept
    header and no format asked (DRF's negotiation reads nothing else of a renderer): the chosen renderer's
    place in the list and the media type answered; None where DRF refuses (left to DRF, per request)."""
    renderers = [SimpleNamespace(media_type=media_type, format=name) for media_type, name in offered]
    request = SimpleNamespace(query_params={}, headers={"accept": accept})
    try:
        renderer, media_type = DefaultContentNegotiation().select_renderer(request, renderers)
    except Exception:  # noqa: BLE001 - NotAcceptable and the like: DRF answers them with the real request
        return None
    return next(index for index, candidate in enumerate(renderers) if candidate is renderer), media_type
