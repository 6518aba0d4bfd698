"""Connectors: where a knowledge base's documents live (folders, web sites, object storage,
WebDAV, Git, SQL databases), listed and fetched behind one small interface."""
