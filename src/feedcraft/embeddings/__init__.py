"""L2 embeddings: sentence encoders that load fully offline from packages or local paths."""
