"""Pydantic v2 models of the Argyle API v1 objects: users, user tokens and accounts.

The models follow the reference pages of the Users and Accounts endpoints. They are
lenient where the real service is open-ended and strict where a wrong value would
mislead an analysis:

* ids are UUIDs and timestamps are timezone-aware (a naive timestamp, which the
  service sometimes sends, is read as UTC; a number is refused, not read as epoch
  seconds, as the frames refuse it);
* statuses and error codes are documented below as constants, but a value outside
  them still parses (the service adds codes over time);
* fields the service adds and these models do not know are kept, not dropped, and
  come back out of ``model_dump()``;
* deprecated fields (``Account.status``, ``Account.error_code``,
  ``Account.data_partner``, ``Availability.finances``) are parsed and warn with a
  ``DeprecationWarning`` when read.

Examples:
    >>> from argyle_nb.models import User
    >>> user = User.model_validate_json(
    ...     b'{"id": "0994b847-cc69-4d98-bc99-c5e65e762add",'
    ...     b' "created_at": "2019-11-27T15:56:50.583233",'
    ...     b' "external_metadata": {"group_id": "Group A5"}}'
    ... )
    >>> user.created_at.tzname()
    'UTC'
    >>> user.external_metadata
    {'group_id': 'Group A5'}
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final, Generic, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

__all__ = [
    "AVAILABILITY_STATUSES",
    "CONNECTION_ERROR_CODES",
    "CONNECTION_ERROR_MESSAGES",
    "CONNECTION_STATUSES",
    "EVENT_RESOURCES",
    "MAX_METADATA_DEPTH",
    "PAY_DISTRIBUTION_STATUSES",
    "RESOURCES",
    "UPLOAD_RESOURCES",
    "Account",
    "ArgyleModel",
    "Availability",
    "Connection",
    "EventAvailability",
    "NewUser",
    "Page",
    "PayDistribution",
    "ResourceAvailability",
    "UploadAvailability",
    "User",
    "UserToken",
    "UserTokenRequest",
    "UserWrite",
    "UtcDatetime",
    "metadata_depth",
]

# ---------------------------------------------------------------------------
# Documented values. Parsing accepts values outside these sets.
# ---------------------------------------------------------------------------

#: ``connection.status`` of an account.
CONNECTION_STATUSES: tuple[str, ...] = ("connecting", "connected", "error")

#: ``connection.error_code`` values of API v1, with the message the service sends.
CONNECTION_ERROR_MESSAGES: dict[str, str] = {
    "unsupported_auth_type": "This user's login method is not supported.",
    "invalid_credentials": "The credentials this user provided were invalid.",
    "invalid_mfa": "The multi-factor authentication code this user provided was invalid.",
    "invalid_auth": "This user's authentication failed.",
    "auth_required": "This account needs the user to log in again.",
    "mfa_timeout": "This user did not complete multi-factor authentication.",
    "unsupported_mfa_method": "This user's multi-factor authentication method is not supported.",
    "account_incomplete": "This user's employment account is not fully set up.",
    "tos_required": "This user must accept the platform's terms of service.",
    "email_verification_required": "This user must verify their email address.",
    "invalid_account_type": "This user's account type is not supported.",
    "account_disabled": "This user's employment account appears to be suspended or disabled.",
    "account_inaccessible": (
        "This user's account is not currently accessible. "
        "Our team has been notified and is investigating."
    ),
    "system_error": "A temporary system error occurred. Please try again later.",
    "account_not_found": "No account was found for the credentials this user provided.",
    "connection_unavailable": "The payroll platform is unavailable at the moment.",
    "expired_credentials": "This user's password has expired.",
}

#: ``connection.error_code`` values of API v1 (newer codes still parse).
CONNECTION_ERROR_CODES: tuple[str, ...] = tuple(CONNECTION_ERROR_MESSAGES)

#: ``pay_distribution.status`` values.
PAY_DISTRIBUTION_STATUSES: tuple[str, ...] = (
    "idle",
    "awaiting_connection",
    "awaiting_user_action",
    "awaiting_confirmation",
    "scanning",
    "updating",
    "success",
    "error",
)

#: ``availability.<resource>.status`` values.
AVAILABILITY_STATUSES: tuple[str, ...] = ("in_progress", "synced", "sync_failed")

#: Event resources: their availability also carries a count and a time window.
EVENT_RESOURCES: tuple[str, ...] = ("payouts", "activities")

#: Upload resources: their availability carries file counts.
UPLOAD_RESOURCES: tuple[str, ...] = ("forms", "user_uploads")

#: Every resource of ``account.availability``, in the order of the reference page.
RESOURCES: tuple[str, ...] = (
    "profiles",
    "employments",
    "finances",
    "reputations",
    "documents",
    "vehicles",
    "pay_allocations",
    *EVENT_RESOURCES,
    *UPLOAD_RESOURCES,
)


# ---------------------------------------------------------------------------
# Field types
# ---------------------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    """Read a naive timestamp as UTC and express every timestamp in UTC.

    A timestamp that UTC cannot hold (``9999-12-31T23:59:59-14:00`` is in the year 10000)
    is a validation error, so its record is set aside like any other bad record.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is outside the years 1 to 9999 in UTC") from None


#: How deep ``external_metadata`` may nest (objects and arrays): one limit for the sandbox
#: (a deeper body is a 400 field error) and every reader (a deeper record is set aside).
MAX_METADATA_DEPTH: Final = 32


def metadata_depth(value: Any, *, limit: int = MAX_METADATA_DEPTH) -> int:
    """How many levels of objects and arrays ``value`` nests (a scalar is 0), counted
    without recursion and only up to ``limit + 1``: a deep value costs nothing to refuse.

    Examples:
        >>> metadata_depth({"a": [1, {"b": 2}]}), metadata_depth("x")
        (3, 0)
    """
    if not isinstance(value, dict | list):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if type(c) is dict or type(c) is list)
    return deepest


def _shallow_enough(value: Any) -> Any:
    depth = metadata_depth(value)
    if depth > MAX_METADATA_DEPTH:
        raise ValueError(
            f"external_metadata nests more than {MAX_METADATA_DEPTH} levels "
            f"(objects and arrays); at most {MAX_METADATA_DEPTH} are allowed"
        )
    return value


#: ``external_metadata``: any JSON value, nested at most :data:`MAX_METADATA_DEPTH` levels.
Metadata = Annotated[JsonValue, BeforeValidator(_shallow_enough)]


#: A timezone-aware timestamp in UTC; naive input is read as UTC.
def _not_a_number(value: Any) -> Any:
    """The API sends timestamps as ISO 8601 text: a number is not read as epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"a timestamp must be ISO 8601 text, not the number {value!r}")
    return value


UtcDatetime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_as_utc)]


class ArgyleModel(BaseModel):
    """Base of every API object: unknown fields are kept, values are validated on assignment."""

    model_config = ConfigDict(extra="allow", validate_assignment=True, populate_by_name=True)


# ---------------------------------------------------------------------------
# Users and tokens
# ---------------------------------------------------------------------------


class User(ArgyleModel):
    """A user the customer created; accounts hang off it.

    ``external_metadata`` is any JSON value (object, string, number, list or null):
    the customer's own tag for grouping users into cohorts.
    """

    id: UUID
    created_at: UtcDatetime
    employers_connected: list[str] = Field(default_factory=list)
    data_providers_connected: list[str] = Field(default_factory=list)
    external_metadata: Metadata = None


class UserWrite(ArgyleModel):
    """The body of ``POST /v1/users`` and ``PATCH /v1/users/{id}``: optional metadata."""

    external_metadata: Metadata = None


class UserTokenRequest(ArgyleModel):
    """The body of ``POST /v1/user-tokens``: the id of the user the token is for."""

    user: UUID


class NewUser(ArgyleModel):
    """The answer to ``POST /v1/users``: the new user's id and an access token."""

    id: UUID
    token: str = Field(repr=False)


class UserToken(ArgyleModel):
    """The answer to ``POST /v1/user-tokens``: a JWT access token (and a deprecated refresh)."""

    access: str = Field(repr=False)
    refresh: str | None = Field(default=None, repr=False, description="Deprecated by Argyle.")


# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------


class Connection(ArgyleModel):
    """The state of the link between Argyle and the payroll provider."""

    status: str
    error_code: str | None = None
    error_message: str | None = None
    updated_at: UtcDatetime | None = None


class PayDistribution(ArgyleModel):
    """The direct-deposit switching state of an account.

    The reference examples name the error key ``error``, its prose ``error_code``:
    both are read into :attr:`error_code`, and ``model_dump()`` writes back the key
    that came in.
    """

    status: str | None = None
    error_code: str | None = Field(
        default=None, validation_alias=AliasChoices("error_code", "error")
    )
    error_message: str | None = None
    updated_at: UtcDatetime | None = None

    _error_key: str = PrivateAttr(default="error_code")

    @model_validator(mode="wrap")
    @classmethod
    def _remember_error_key(cls, data: Any, handler: Any) -> PayDistribution:
        model: PayDistribution = handler(data)
        if isinstance(data, dict) and "error" in data and "error_code" not in data:
            model._error_key = "error"
        return model

    @model_serializer(mode="wrap")
    def _write_error_key(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if self._error_key == "error" and "error_code" in out:
            out = {("error" if k == "error_code" else k): v for k, v in out.items()}
        return out


class ResourceAvailability(ArgyleModel):
    """Scan status of one data resource of an account."""

    status: str
    updated_at: UtcDatetime | None = None


class EventAvailability(ResourceAvailability):
    """Scan status of an event resource (payouts, activities): a count and a time window."""

    available_count: int | None = None
    available_from: UtcDatetime | None = None
    available_to: UtcDatetime | None = None


class UploadAvailability(ResourceAvailability):
    """Scan status of an upload resource (forms, user uploads)."""

    files_count: int | None = None
    in_progress_count: int | None = None


class Availability(ArgyleModel):
    """Per-resource scan status of an account; a resource the item lacks is ``None``."""

    profiles: ResourceAvailability | None = None
    employments: ResourceAvailability | None = None
    finances: ResourceAvailability | None = Field(
        default=None, deprecated="`finances` is deprecated by Argyle."
    )
    reputations: ResourceAvailability | None = None
    documents: ResourceAvailability | None = None
    vehicles: ResourceAvailability | None = None
    pay_allocations: ResourceAvailability | None = None
    payouts: EventAvailability | None = None
    activities: EventAvailability | None = None
    forms: UploadAvailability | None = None
    user_uploads: UploadAvailability | None = None


class Account(ArgyleModel):
    """A payroll account a user connected through Argyle Link."""

    id: UUID
    user: UUID
    employers: list[str] = Field(default_factory=list)
    link_item: str | None = None
    item: str | None = None
    source: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None
    was_connected: bool = False
    connection: Connection | None = None
    pay_distribution: PayDistribution | None = None
    availability: Availability | None = None
    status: str | None = Field(
        default=None, deprecated="`Account.status` is deprecated: use `connection.status`."
    )
    error_code: str | None = Field(
        default=None,
        deprecated="`Account.error_code` is deprecated: use `connection.error_code`.",
    )
    data_partner: str | None = Field(
        default=None, deprecated="`Account.data_partner` is deprecated: use `link_item`."
    )


# ---------------------------------------------------------------------------
# List pages
# ---------------------------------------------------------------------------

T = TypeVar("T", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    """One page of a list endpoint.

    Reads the envelope ``{"count", "next", "previous", "results"}`` and also a bare
    JSON array (then ``count`` is the array's length and there is no next page).

    Examples:
        >>> Page[User].model_validate_json(b"[]").results
        []
    """

    model_config = ConfigDict(extra="allow")

    count: int | None = None
    next: str | None = None
    previous: str | None = None
    results: list[T]

    @model_validator(mode="before")
    @classmethod
    def _accept_bare_array(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"count": len(data), "next": None, "previous": None, "results": data}
        return data
