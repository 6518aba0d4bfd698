"""Share links: a public chat page and an embeddable widget per app, reached without an API key."""
