"""The peer: the script an MSP engineer would write instead of tenantctl.

MSAL per tenant, ``requests`` in 16 threads, GET every user, every group and each group's
members, following ``@odata.nextLink``; a 429 waits its Retry-After. It reads what
``tenantctl plan`` needs to diff users and group members (tenantctl also reads consent,
licences, roles, MFA and risk, and plans). ``bench/peer_bench.py`` runs it paired with
``tenantctl plan`` against the same served sandbox.

    python bench/naive_peer.py --login URL --graph URL --ca CA.pem --partner TENANT_ID \
        --client-id ID   (the secret in $TENANTCTL_CLIENT_SECRET)
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msal
import requests


def main() -> None:
    parser = argparse.ArgumentParser()
    for flag in ("--login", "--graph", "--ca", "--partner", "--client-id"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    secret = os.environ["TENANTCTL_CLIENT_SECRET"]
    session = requests.Session()
    session.verify = args.ca
    session.trust_env = False

    def token(tenant: str) -> str:
        app = msal.ConfidentialClientApplication(
            args.client_id,
            client_credential=secret,
            authority=f"{args.login}/{tenant}",
            http_client=session,
            instance_discovery=False,
        )
        result = app.acquire_token_for_client(scopes=[f"{args.graph}/.default"])
        return str(result["access_token"])

    def get_all(url: str, bearer: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        next_url: str | None = url
        while next_url:
            answer = session.get(next_url, headers={"Authorization": f"Bearer {bearer}"})
            if answer.status_code == 429:
                time.sleep(float(answer.headers.get("Retry-After", "1")))
                continue
            answer.raise_for_status()
            body = answer.json()
            items.extend(body.get("value", []))
            next_url = body.get("@odata.nextLink")
        return items

    customers = get_all(
        f"{args.graph}/v1.0/tenantRelationships/delegatedAdminCustomers", token(args.partner)
    )

    def one(tenant_id: str) -> int:
        bearer = token(tenant_id)
        users = get_all(f"{args.graph}/v1.0/users?$top=999", bearer)
        groups = get_all(f"{args.graph}/v1.0/groups?$top=999", bearer)
        members = sum(
            len(get_all(f"{args.graph}/v1.0/groups/{g['id']}/members?$top=999", bearer))
            for g in groups
        )
        return len(users) + members

    with ThreadPoolExecutor(16) as pool:
        seen = sum(pool.map(one, [c["tenantId"] for c in customers]))
    print(f"{len(customers)} tenants, {seen} users and memberships read")


if __name__ == "__main__":
    main()
