"""Assistants (apps): stored, versioned configurations of knowledge bases, model and prompts."""
