"""Errors the library raises. Each message says what is wrong and what to do about it."""


class ExpungeError(Exception):
    """Base class: a problem the user can fix (bad file, bad option), never a bug."""


class InputFileError(ExpungeError):
    """An input export cannot be read at all (missing, empty, no recognisable columns)."""


class ProfileError(ExpungeError):
    """A profile (column mapping) is malformed or names unknown fields."""


class RuleFileError(ExpungeError):
    """A rule file is malformed; the message lists every problem found."""


class OutputExistsError(ExpungeError):
    """The run folder exists already and overwriting was not asked for."""


class SaltError(ExpungeError):
    """The analytics salt cannot be used (the public demo salt outside the demo, a salt file in
    the output folder, an empty salt file)."""


class DeliveryHeld(ExpungeError):
    """The shrink guard held a snapshot: it has no usable rows, or it would drop more of its
    scope's charges (or a whole county) than the operator allows. Nothing was published;
    ``figures`` are the counts behind the message (no personal data)."""

    def __init__(self, message: str, figures: dict | None = None) -> None:
        super().__init__(message)
        self.figures = dict(figures or {})
