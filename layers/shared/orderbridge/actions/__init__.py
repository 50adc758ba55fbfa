"""Outbound actions: one function per thing Orderbridge does at a vendor, each behind its own
Lambda (functions/<action>/app.py), called by the order workflow or a schedule.

Every action takes one pydantic input model and returns one output model. Actions with side
effects at a vendor run under Powertools idempotency (declared on the action:
``@runtime.action(idempotent=True)``):
a retried Step Functions task gets the first answer back instead of a second courier or rent.
"""
