"""Per-item analysis stages, their registry and the pipeline that runs them."""
