"""llmpath: a progress tracker for a prerequisite-ordered learning path."""

__version__ = "0.3.0"
