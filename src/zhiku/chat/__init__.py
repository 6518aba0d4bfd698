"""Conversations: stored multi-turn chats with assistants, and the accounting of model calls."""
