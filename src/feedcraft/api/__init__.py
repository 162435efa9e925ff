"""L4 HTTP API (FastAPI)."""
