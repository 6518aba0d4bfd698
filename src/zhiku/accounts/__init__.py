"""Accounts: workspaces, users and their roles, sessions, API keys and invitations."""
