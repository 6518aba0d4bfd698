"""Models: embedders and LLM clients, each behind a narrow protocol."""
