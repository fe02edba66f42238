"""cardiofm: clinically grounded ECG foundation models."""

__version__ = "0.1.0"
