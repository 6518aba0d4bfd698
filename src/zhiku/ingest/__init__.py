"""Turning files into chunks: parsers, chunking, and the ingestion pipeline."""
