"""The branches sync's view of each branch (``BranchCheck``), and the one change it makes to our
branch configuration: the fields Blink owns (its id, the branch's name and address).

| item         | pk                        | sk                 | attributes                                  |
|--------------|---------------------------|--------------------|---------------------------------------------|
| branch check | BRANCHCHECK#<merchant_id> | BRANCH#<branch_id> | the check, checked_at, content_digest       |

``GET /ops/branches`` reads these; a check is removed when its branch is neither configured nor
in Blink any more.
"""

from __future__ import annotations

from typing import Any

from orderbridge.models.blink_records import BranchCheck
from orderbridge.models.config import Branch
from orderbridge.store.config import branch_key
from orderbridge.store.dynamo import ConditionFailed, aws_call, to_attrs, to_value
from orderbridge.store.synced import put_if_changed, query_all

# Our branch fields the sync keeps in step with Blink's (Branch field -> what Blink calls it).
BLINK_OWNED = ("blink_id", "name", "address")


def check_key(merchant_id: str, branch_id: str) -> dict[str, str]:
    return {"pk": f"BRANCHCHECK#{merchant_id}", "sk": f"BRANCH#{branch_id}"}


class BranchCheckStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def keep(self, check: BranchCheck) -> bool:
        """Store the check unless it says what the stored one says: True when it changed."""
        content = check.model_dump(exclude={"checked_at"})
        return put_if_changed(
            self.client,
            self.table,
            check_key(check.merchant_id, check.branch_id),
            content,
            "record the branch check",
            stamp={"checked_at": check.checked_at},
        )

    def of_merchant(self, merchant_id: str) -> list[BranchCheck]:
        query = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"BRANCHCHECK#{merchant_id}"}},
        }
        return [
            BranchCheck.model_validate({k: v for k, v in item.items() if k in BranchCheck.model_fields})
            for item in query_all(self.client, query, "list the branch checks")
        ]

    def remove(self, merchant_id: str, branch_id: str) -> None:
        with aws_call("remove the branch check"):
            self.client.delete_item(TableName=self.table, Key=to_attrs(check_key(merchant_id, branch_id)))

    def update_branch(self, branch: Branch, changes: dict[str, str]) -> bool:
        """Set Blink's values of ``changes`` (a subset of :data:`BLINK_OWNED`) on our branch, if it
        is still the merchant's and one of them still differs: True when it was updated (a second
        run at once finds nothing to change). Other fields are left as they are."""
        if not changes or set(changes) - set(BLINK_OWNED):
            raise ValueError(f"only {', '.join(BLINK_OWNED)} are set from Blink")
        names = {f"#{field}": field for field in changes}
        values = {f":{field}": to_value(value) for field, value in changes.items()}
        differs = " OR ".join(f"attribute_not_exists(#{f}) OR #{f} <> :{f}" for f in changes)
        try:
            with aws_call("update the branch from Blink", conditional=True):
                self.client.update_item(
                    TableName=self.table,
                    Key=to_attrs(branch_key(branch.branch_id)),
                    UpdateExpression="SET " + ", ".join(f"#{f} = :{f}" for f in changes),
                    ConditionExpression=f"attribute_exists(pk) AND merchant_id = :merchant AND ({differs})",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={**values, ":merchant": to_value(branch.merchant_id)},
                )
        except ConditionFailed:
            return False
        return True
