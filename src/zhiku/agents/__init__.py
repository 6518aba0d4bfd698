"""Agents: a model that calls tools in a loop until it answers (``zk.agents``)."""
