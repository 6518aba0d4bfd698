"""Answering: from hits to an answer whose every sentence cites its source, or a refusal."""
