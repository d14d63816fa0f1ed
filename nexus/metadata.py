"""OPTIONS answers in JSON on every view, whatever else the view renders."""

from rest_framework.metadata import SimpleMetadata

from .renderers import JSONRenderer


class JSONMetadata(SimpleMetadata):
    """The statement's CSV renderer, the schema's YAML and the docs' HTML templates cannot render
    OPTIONS metadata (a 500 before). DRF renders a response with the request's negotiated renderer,
    so OPTIONS negotiates JSON here, for every query string (``?format=csv`` included)."""

    def determine_metadata(self, request, view):
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().determine_metadata(request, view)
