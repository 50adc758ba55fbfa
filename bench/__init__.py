"""``make bench``: Orderbridge measured from outside, each figure beside a bare baseline measured in
the same run (interleaved) and the ratio. ``python -m bench [--smoke] [--only B1,B2,...]``.

* B1 warm ack per webhook type (in-process, moto): wall p50/p99, the handler's own CPU without
  the AWS calls, AWS calls per request — vs a handler that parses the body and does one PutItem.
* B2 cold start per function kind from the ``sam build`` output laid out as Lambda does — vs a bare
  handler (import boto3, one client, answer).
* B3 a burst of Blink order webhooks on the local stack, exactly-once checked through the ops API,
  the stack's memory after it — vs a bare function on the same stack.
* B4 cost per 1,000 delivered orders per path, counted on the local stack at dated prices.
* B5 artifact sizes (unzipped, zipped) vs the layer's budget.
* B6 peak memory per function (the local runtime's workers) vs its MemorySize.

Results: the terminal table and ``bench/results.json``.
"""
