"""L4 command line (typer)."""
