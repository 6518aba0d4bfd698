"""Evaluation and the data flywheel: eval sets, metrics, runs, comparison, reports, export."""
