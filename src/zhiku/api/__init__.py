"""The HTTP API: a FastAPI app over the ``Zhiku`` facade (``create_app(settings)``)."""
