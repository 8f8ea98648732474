"""The web page (installed as ``scribe.web``; served by the API at ``/``)."""
