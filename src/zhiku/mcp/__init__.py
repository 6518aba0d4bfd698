"""Zhiku as an MCP server: tools over the facade, served on stdio and streamable HTTP."""
