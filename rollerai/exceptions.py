"""The domain errors services raise; the API and the pages each map them to a response once."""


class DomainError(Exception):
    """A request the product refuses for a reason the user can act on."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class InvalidRequest(DomainError):
    code = "invalid"


class NotSignedIn(DomainError):
    """No one (or no known API key) is behind the request."""

    code = "not_authenticated"


class Forbidden(DomainError):
    """Who is asking is known, but this request may not be made that way (a failed CSRF check)."""

    code = "forbidden"


class InsufficientCredits(DomainError):
    code = "insufficient_credits"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Unavailable(DomainError):
    """Something the request needs (a third-party service) cannot be reached right now."""

    code = "unavailable"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
