"""The one place that joins store -> pipeline -> insight: workers, the batch runner, savers."""
