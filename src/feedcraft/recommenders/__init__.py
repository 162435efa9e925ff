"""L2 recommenders: estimators with one API (see base.Recommender)."""
