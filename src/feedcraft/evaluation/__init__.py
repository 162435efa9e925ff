"""L2 evaluation: ranking metrics, splits, MIND prediction files."""
