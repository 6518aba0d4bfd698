"""Zhiku as an MCP client: a workspace's registered MCP servers and their tools."""
