"""The audit log: who changed what, when, from which address, with which result.

``context`` says who is acting (set once per request by the HTTP API, once per command by the
CLI); ``log`` is the append-only table; ``recorder`` is what the core calls, one line per
change: ``audit("kb.delete", "kb", kb.id, kb.name)``.
"""
