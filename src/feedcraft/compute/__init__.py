"""L1 compute: an executor protocol (local now, Ray later)."""
