"""One visual language for every chart, explorer and report: colours that mean something.

Statuses are coloured by meaning, from Okabe and Ito's palette, which stays distinct for
the common kinds of colour blindness (deuteranopia, protanopia, tritanopia): bluish
green for what worked (``connected``, ``synced``), vermillion for what failed
(``error``, ``sync_failed``), amber for what is under way (``connecting``,
``in_progress``), grey for anything else. Cohorts, which mean nothing good or bad, take
the other colours of the palette in turn (blue first).

Examples:
    >>> status_colour("connected"), status_colour("error"), status_colour("who knows")
    ('#009E73', '#D55E00', '#999999')
    >>> cohort_colours(2)
    ['#0072B2', '#CC79A7']
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "COHORT_COLOURS",
    "FAILED",
    "NEUTRAL",
    "OKABE_ITO",
    "STATUS_COLOURS",
    "UNDER_WAY",
    "WORKED",
    "cohort_colours",
    "status_colour",
]

#: Okabe & Ito (2008), "Color Universal Design": eight colours for everyone.
OKABE_ITO: Final[dict[str, str]] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

WORKED: Final = OKABE_ITO["bluish green"]
FAILED: Final = OKABE_ITO["vermillion"]
UNDER_WAY: Final = OKABE_ITO["orange"]
#: Anything without a meaning of its own: unknown statuses, reference lines, empty cells.
NEUTRAL: Final = "#999999"

#: The colour of every documented status (connection, scan, pay distribution).
STATUS_COLOURS: Final[dict[str, str]] = {
    "connected": WORKED,
    "synced": WORKED,
    "success": WORKED,
    "connecting": UNDER_WAY,
    "in_progress": UNDER_WAY,
    "awaiting_connection": UNDER_WAY,
    "awaiting_confirmation": UNDER_WAY,
    "error": FAILED,
    "sync_failed": FAILED,
    "idle": NEUTRAL,
}

#: Colours of cohorts, in turn: none of them green or vermillion, which mean a status,
#: until there are more cohorts than the palette has other colours.
COHORT_COLOURS: Final[tuple[str, ...]] = (
    OKABE_ITO["blue"],
    OKABE_ITO["reddish purple"],
    OKABE_ITO["sky blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["black"],
    OKABE_ITO["yellow"],
    OKABE_ITO["bluish green"],
    OKABE_ITO["vermillion"],
)


def status_colour(status: object) -> str:
    """The colour of a status (grey when it has no meaning of its own)."""
    return STATUS_COLOURS.get(str(status), NEUTRAL)


def cohort_colours(n: int) -> list[str]:
    """Colours for ``n`` cohorts (the palette repeats past eight)."""
    return [COHORT_COLOURS[i % len(COHORT_COLOURS)] for i in range(max(n, 0))]
