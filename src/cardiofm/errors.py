"""Exceptions a user can cause. Each names the file or field at fault and what to do about it."""

from __future__ import annotations


class CardiofmError(Exception):
    """Base class for every error cardiofm raises on purpose."""


class RecordError(CardiofmError):
    """A recording cannot be read or does not satisfy the signal contract."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class LeadError(RecordError):
    """A lead is missing, duplicated or has a name cardiofm does not know."""


class SamplingRateError(RecordError):
    """A recording has a sampling rate the caller did not allow."""


class FileFormatError(CardiofmError):
    """A file cardiofm wrote (run folder, store, model) is corrupt, truncated or holds more than data."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class SourceError(CardiofmError):
    """A data source (PTB-XL, CinC, MIMIC, own folder) is missing or laid out wrongly."""


class LabelError(CardiofmError):
    """An unknown task or label was asked for."""


class LeakageError(CardiofmError):
    """A patient appears in more than one split."""


class StoreError(CardiofmError):
    """A store directory is missing, incomplete or built with other parameters."""


class ConfigError(CardiofmError):
    """A configuration value is invalid."""


class MetricError(ConfigError):
    """Evaluation inputs cannot be scored as asked (NaN scores, non-binary labels, a class with one label value)."""


class OutputError(CardiofmError):
    """An output path (``--out``, a run folder) cannot be written: a file where a folder is needed, a folder
    where a file is needed, or no permission to write there."""
