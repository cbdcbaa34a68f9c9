"""cbewatch: watch the K-12 competency-based education field and curate a monthly newsletter."""

__version__ = "0.1.0"
