"""HTTP-only parts of authentication: where a request's credential comes from, cookies, CSRF."""
