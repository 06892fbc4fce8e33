"""llmpath: a progress tracker for a prerequisite-ordered learning path."""

__version__ = "0.2.0"
