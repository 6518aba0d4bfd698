"""Chat as the HTTP endpoints render it: the facade's turns mapped to wire events."""
