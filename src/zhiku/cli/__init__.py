"""The ``zhiku`` command line: thin typer command groups over ``zhiku.service``."""
