"""The package's error classes: bad input is named, never guessed.

Every reader raises one of these with a message that names the file and the
line, key or frame, and what was expected.
"""


class ModelFileError(ValueError):
    """A malformed model file; the message names the file, line or key, and token."""
