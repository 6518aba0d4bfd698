"""Moderation of what users ask and what answers say: word lists matched with Aho-Corasick
(Chinese-aware), an optional OpenAI-compatible moderation endpoint, block or mask, every hit
logged."""
