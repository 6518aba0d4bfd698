"""Provable releases: an app (an assistant, a chat-shaped workflow or an agent) bound to an eval
set gets a scorecard for every draft (an eval run beside the live version's, on the same set),
publishing refuses a draft that is worse than live beyond the paired-bootstrap interval unless
forced, and the same gate runs on demand against the live version (``zhiku eval gate``)."""
