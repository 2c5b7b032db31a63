"""What the synthetic data are drawn from: the Link items, the error codes, the metadata
values, the shape of a portfolio, and the effects planted in it (:data:`STORY`).

Tables only: :mod:`argyle_nb.sandbox.synth` draws from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["CATALOGUE", "SOURCE", "STORY", "LinkItem", "Story"]

#: ``account.source`` in Argyle's sandbox, whatever the link item.
SOURCE: Final = "argyle_sandbox"


@dataclass(frozen=True)
class LinkItem:
    """One Link item of the catalogue."""

    link_item: str
    item: str
    kind: str  # "gig" or "payroll"
    platform: str  # the payroll platform behind it in production (not served: see SOURCE)
    weight: float
    employers: tuple[str, ...] = ()  # platforms serving several employers draw from these
    pay_allocations: bool = True


SMALL_EMPLOYERS: Final = (
    "acme_logistics",
    "sunrise_dental",
    "bluewater_hospitality",
    "northgate_staffing",
    "pinecrest_health",
    "redline_manufacturing",
    "summit_retail_group",
    "harbor_city_schools",
)

#: The Link items synthetic accounts are drawn from (weights are relative).
CATALOGUE: Final[tuple[LinkItem, ...]] = (
    LinkItem("uber", "item_000041078", "gig", "uber", 14),
    LinkItem("lyft", "item_000024211", "gig", "lyft", 7),
    LinkItem("doordash", "item_000012375", "gig", "doordash", 12),
    LinkItem("instacart", "item_000020164", "gig", "instacart", 6),
    LinkItem("amazon_flex", "item_000002097", "gig", "amazon_flex", 5),
    LinkItem("grubhub", "item_000017433", "gig", "grubhub", 3),
    LinkItem("shipt", "item_000035870", "gig", "shipt", 2, pay_allocations=False),
    LinkItem("postmates", "item_000031125", "gig", "postmates", 1, pay_allocations=False),
    LinkItem("homedepot", "item_000019016", "payroll", "workday", 5),
    LinkItem("walmart", "item_000046112", "payroll", "walmart_onewalmart", 8),
    LinkItem("amazon", "item_000002102", "payroll", "amazonwarehouse_remote", 7),
    LinkItem("target", "item_000038771", "payroll", "workday", 4),
    LinkItem("us_army", "item_000041672", "payroll", "mypay", 3),
    LinkItem("starbucks", "item_000036524", "payroll", "adp", 3),
    LinkItem("mcdonalds", "item_000026019", "payroll", "adp", 2),
    LinkItem("fedex", "item_000015350", "payroll", "workday", 2),
    LinkItem("ups", "item_000043907", "payroll", "ups", 2),
    LinkItem("kroger", "item_000023466", "payroll", "kroger_express_hr", 2),
    LinkItem("costco", "item_000010246", "payroll", "costco", 1),
    LinkItem("cvs", "item_000010988", "payroll", "workday", 1),
    LinkItem("usps", "item_000044310", "payroll", "liteblue", 1),
    LinkItem("myadp", "item_000000981", "payroll", "myadp", 5, SMALL_EMPLOYERS),
    LinkItem("paychex", "item_000030567", "payroll", "paychex_flex", 2, SMALL_EMPLOYERS),
    LinkItem("gusto", "item_000018142", "payroll", "gusto", 1, SMALL_EMPLOYERS, False),
)

ITEM_WEIGHTS: Final = [item.weight for item in CATALOGUE]

#: Codes of accounts that were connected, then lost the connection.
LOST_CODES: Final = (
    ("auth_required", 40),
    ("expired_credentials", 12),
    ("account_disabled", 10),
    ("invalid_auth", 10),
    ("account_inaccessible", 6),
    ("system_error", 6),
    ("connection_unavailable", 4),
)
#: Codes of accounts whose first login failed.
LOGIN_CODES: Final = (
    ("invalid_credentials", 40),
    ("mfa_timeout", 14),
    ("invalid_mfa", 10),
    ("account_not_found", 8),
    ("unsupported_auth_type", 5),
    ("unsupported_mfa_method", 4),
    ("account_incomplete", 4),
    ("tos_required", 3),
    ("email_verification_required", 3),
    ("invalid_account_type", 3),
    ("system_error", 3),
    ("connection_unavailable", 3),
)
PAY_DISTRIBUTION_ERRORS: Final = (
    ("account_disconnected", "This user's connection has expired and requires re-authentication."),
    (
        "bank_and_card_update_failed",
        "Argyle encountered a problem when updating bank account and card deposit settings. "
        "Our team has been notified and is investigating.",
    ),
    ("invalid_mfa", "This user did not provide the correct multi-factor authentication response."),
)

GROUPS: Final = ("lending", "lending", "insurance", "earned_wage_access", "background_check")
CHANNELS: Final = ("organic", "paid_search", "partner_referral", "email", "social", "direct_mail")
REGIONS: Final = ("us-west", "us-east", "us-central", "us-south")
CLASSIFICATIONS: Final = ("Gig Worker", "W2 Employee", "Contractor", "Multiple")
ACCOUNTS_PER_USER: Final = (0, 1, 2, 3, 4)
ACCOUNT_WEIGHTS: Final = (18, 47, 20, 10, 5)


@dataclass(frozen=True)
class Story:
    """The effects planted in the synthetic data (see the module docstring)."""

    quiet_group: str = "background_check"
    quiet_no_account: float = 0.45  # share of its users who never connect an account
    no_account: float = 0.18  # the same share for everyone else
    slow_channel: str = "partner_referral"
    slow_quick_share: float = 0.15  # share coming back within half an hour
    quick_share: float = 0.70
    slow_mean_days: float = 10.0  # mean wait of the others
    mean_days: float = 3.0
    incident_item: str = "walmart"
    incident_days: float = 5.0  # accounts created in the last days...
    incident_error: float = 0.55  # ...fail this often on top of the usual failures
    flaky_item: str = "doordash"
    flaky_resource: str = "payouts"
    flaky_failure: float = 0.20  # chance its scans end sync_failed (on top of the usual)


#: The effects the synthetic data tell.
STORY: Final = Story()

QUIET_ACCOUNT_WEIGHTS: Final = (
    STORY.quiet_no_account * 100,
    *(
        w * (1 - STORY.quiet_no_account) * 100 / sum(ACCOUNT_WEIGHTS[1:])
        for w in ACCOUNT_WEIGHTS[1:]
    ),
)
#: Codes of the failed logins of the incident.
INCIDENT_CODES: Final[tuple[tuple[str, int], ...]] = (
    ("connection_unavailable", 3),
    ("system_error", 1),
)

DAY: Final = 86_400.0
GIG_ONLY: Final = frozenset({"activities", "vehicles", "reputations"})
RESOURCES: Final = (
    "activities",
    "payouts",
    "documents",
    "profiles",
    "employments",
    "reputations",
    "vehicles",
    "pay_allocations",
)
