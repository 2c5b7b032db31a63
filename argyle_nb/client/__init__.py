"""The cached Argyle API v1 client: :class:`ArgyleClient` and :func:`connect`.

Resources in the style of stripe-python::

    client.users.list() / .get(id) / .create(external_metadata=...) / .update(id, ...) / .delete(id)
    client.user_tokens.create(user_id)
    client.accounts.list(user=None) / .get(id) / .delete(id)

Small parts, one job each:

==============================  ============================================================
``_transport.Transport``        one request: the cache, a total deadline, a size cap,
                                redirects kept on the API's origin, retries, typed errors
``_http``                       the requests adapter that enforces the deadline and the cap
``_retry.RetryPolicy``          when to repeat and how long to wait (``Retry-After`` honoured)
``_pagination.Paginator``       the walk over a list: ``next`` links, proven to end, read
                                again when the list changed under it (or streamed)
``_passes``                     what a walk finds: pages, passes, a changed list merged
``_invalidation``               which cached answers a write makes stale (pure)
``_requester.Requester``        the one request interface the resources speak to
``_resources``                  ``Users``, ``UserTokens``, ``Accounts``
``_listing``                    frames with provenance, models, rejected records
``_export``                     ``client.export()``: a walk streamed into a dataset
``_client.ArgyleClient``        the parts put together; ``_connect.connect()``
==============================  ============================================================

Every ``GET`` goes through the cache (:mod:`argyle_nb.cache`); every write drops the cached
answers it makes stale. Lists follow the server's ``next`` links (200 objects a request;
pages after the first are fetched concurrently when the links show offset paging), and
every record that existed for the whole fetch comes exactly once; when the list changed
and a second read cannot vouch for it either, a
:class:`~argyle_nb.provenance.ListChangedWarning` says so.

Examples:
    >>> import argyle_nb
    >>> client = argyle_nb.connect()                      # doctest: +SKIP
    argyle_nb: no API key configured: started the embedded sandbox ...
    >>> user = next(iter(client.users.list()))            # doctest: +SKIP
    >>> client.accounts.list(user=user.id)                # doctest: +SKIP
"""

from __future__ import annotations

from argyle_nb.client._client import DEFAULT_BASE_URL, PAGE_SIZE, ArgyleClient
from argyle_nb.client._connect import connect
from argyle_nb.client._pagination import MAX_PAGES, MAX_PASSES
from argyle_nb.client._resources import Accounts, Users, UserTokens
from argyle_nb.client._retry import RetryPolicy, parse_retry_after
from argyle_nb.client._transport import Limits

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_PAGES",
    "MAX_PASSES",
    "PAGE_SIZE",
    "Accounts",
    "ArgyleClient",
    "Limits",
    "RetryPolicy",
    "UserTokens",
    "Users",
    "connect",
    "parse_retry_after",
]
