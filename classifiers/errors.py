"""Domain errors: problems with the user's data or environment, each with a message a person can act on."""

from __future__ import annotations


class EyeVsAIError(Exception):
    """A known problem (bad input, missing file, missing extra); shown as one plain line, never a traceback."""


class PackError(EyeVsAIError):
    """An image pack is missing, malformed or inconsistent."""


class ImageDecodeError(EyeVsAIError):
    """Image bytes could not be decoded."""


class ModelCardError(EyeVsAIError):
    """A model card is missing, malformed, or does not match its ONNX file."""


class UnknownFamilyError(EyeVsAIError):
    """A family name that is not registered."""


class MissingExtraError(EyeVsAIError):
    """A family's framework is not installed."""


class ParityError(EyeVsAIError):
    """An exported ONNX model disagrees with the framework model it came from."""


class ConfigError(EyeVsAIError, ValueError):
    """A hyperparameter or option value that cannot work."""
