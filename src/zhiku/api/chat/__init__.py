"""Assistants, conversations and chat as the API needs them, behind one seam (``ChatBackend``)."""
