"""L1 file formats: streaming readers of MIND, MovieLens and JSON Lines into domain values."""
