"""Errors that say what is wrong with the input and where."""


class AnalysisError(ValueError):
    """Weighting or estimation is impossible with this input (message in Chinese/English)."""
