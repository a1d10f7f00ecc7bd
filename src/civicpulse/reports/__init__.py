"""Situation reports for leaders: volumes and their change, themes with quotes, each agency's
record, as one HTML or PDF document (``civicpulse report``, the dashboard, the API).

A layer between the runtime and the cases: it reads the store through SQL aggregates (never every
row in Python), the themes of ``insight`` and the agencies of ``cases``; it never imports the
stages, the API, the dashboard or the CLI. Figures of fewer distinct senders than
``Settings.k_anonymity`` are suppressed.
"""
