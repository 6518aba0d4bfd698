"""Users, roles, API keys and sessions: who is calling and what they may touch."""
