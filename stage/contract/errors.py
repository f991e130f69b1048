"""The one error shape of the stage, on the wire as `{"code", "field", "message"}`."""


class StageError(Exception):
    """A command the stage will not apply: a typed code, a message, and the field it is about."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}


class ProtocolError(StageError):
    """A message that breaks the contract; `field` names the offending part."""
