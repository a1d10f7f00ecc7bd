"""Intake: every channel turns what it receives into ``SubmissionIn`` and hands it to ``accept``."""
