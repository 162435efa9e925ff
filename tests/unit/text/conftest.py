"""The text tests use the real-data fixtures of tests/conftest.py (wikinews, xmind_rows)."""
