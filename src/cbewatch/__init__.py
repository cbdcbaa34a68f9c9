"""cbewatch: watch the K-12 competency-based education field and curate a monthly newsletter."""

import os

# Ranking's matrices are small and sparse: BLAS threads gain nothing on them, and OpenBLAS's
# idle threads spin, burning CPU the web queue and the fetch workers need (one thread:
# retraining 2,000 decisions took ~25 % less CPU time, and starting numpy 0.1 s less).
# Set before numpy is first imported; an operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
