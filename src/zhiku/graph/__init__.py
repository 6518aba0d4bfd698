"""Knowledge graph: extraction (rules and LLM), resolution, upkeep, communities, retrieval."""
