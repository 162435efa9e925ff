"""feedcraft: a self-hosted personalization engine for media."""

__version__ = "0.1.0"
