"""CivicPulse: hear citizens at scale."""

__version__ = "0.1.0"
