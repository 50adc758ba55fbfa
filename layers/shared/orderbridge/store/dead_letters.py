"""A scheduled sync's dead-letter queue: the items a run gave up on, for a person (the queue's
alarm) and for the next engineer reading why. One SQS message per item: the sync, the item's key
and the error's type and text — never the vendor payload (it may carry personal data).

The same queue takes the schedule's failed invocations (EventBridge's ``DeadLetterConfig``), so a
sync has one dead-letter path whatever failed. Without a queue (``SYNC_DEAD_LETTER_QUEUE_URL``
unset: a script or a test) the item is only logged.
"""

from __future__ import annotations

import json
from typing import Any

from orderbridge.observability import logger
from orderbridge.store.dynamo import aws_call

MAX_REASON = 500


class DeadLetters:
    def __init__(self, sqs: Any | None, queue_url: str | None) -> None:
        self.sqs = sqs
        self.queue_url = queue_url

    def send(self, sync: str, key: str, error: Exception) -> None:
        body = {"sync": sync, "item": key, "error": type(error).__name__, "reason": str(error)[:MAX_REASON]}
        if self.sqs is None or not self.queue_url:
            logger.warning("no dead-letter queue: the failed item is only logged", extra=body)
            return
        with aws_call("send the failed item to the dead-letter queue"):
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))
