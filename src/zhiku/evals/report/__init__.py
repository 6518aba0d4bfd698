"""Reports people look at: HTML pages with inline SVG charts, per run and per comparison."""

from zhiku.evals.report.build import write_compare_report, write_run_report

__all__ = ["write_compare_report", "write_run_report"]
