"""Tools from outside Zhiku: OpenAPI operations and MCP servers registered by a workspace."""
