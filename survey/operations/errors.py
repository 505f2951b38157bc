"""Errors raised by operations; messages are Chinese and say what to do."""


class OperationError(Exception):
    """A request that cannot be carried out; nothing was changed."""
