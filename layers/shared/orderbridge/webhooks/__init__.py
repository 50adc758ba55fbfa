"""What each inbound webhook does, one module per sender.

A Lambda handler turns its API Gateway event into a :class:`~orderbridge.web.request.WebhookRequest`
and calls the function here; these functions authenticate, parse, look up, and record, and
return the answer model. They reach AWS only through the stores in :class:`Deps`.
"""
