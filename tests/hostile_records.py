"""Users and accounts as the API sends them, carrying hostile text in every field that
reaches a page: a metadata key and its values, link items, employers, sources, error codes
and messages, and a scan status. Built from the documented account object."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def hostile_records(
    key: str, value: str, link: str, code: str, message: str, status: str, *, users: int = 6
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(users, accounts)``: ``users`` users, one account each; every second account
    failed with ``code`` and ``message``; every account's payouts scan has ``status``."""
    account = json.loads((FIXTURES / "accounts_01_the_account_object.json").read_text())
    people, accounts = [], []
    for i in range(users):
        user = f"53fe928d-9c6a-460b-b5ac-19d67304d{i:03d}"
        people.append(
            {
                "id": user,
                "created_at": f"2026-01-{i % 28 + 1:02d}T00:00:00Z",
                "external_metadata": {key: f"{value}{i % 2}", "plan": value},
            }
        )
        one = copy.deepcopy(account)
        one.update(id=f"ac81e2bc-2157-4535-8ca4-fb1f068df{i:03d}", user=user)
        one.update(link_item=f"{link}{i % 3}", employers=[link], data_partner=link, source=link)
        failed = i % 2 == 1
        one["connection"] = {
            "status": "error" if failed else "connected",
            "error_code": code if failed else None,
            "error_message": message if failed else None,
            "updated_at": "2026-01-02T00:00:00Z",
        }
        one["availability"]["payouts"]["status"] = status
        accounts.append(one)
    return people, accounts
