"""Local stack: the real template and handlers on an in-process AWS emulator, plus vendor sandboxes.

``python -m orderbridge_local run`` (``make run``) — where things are:

==================  ================================================================================
``template``        the SAM template: translated (SAM translator), functions, routes, emulator part
``aws_emulator``    moto behind one HTTP endpoint, its patches, deploying through its CloudFormation
``emulator``        moto corrections shared with the tests (serialised DynamoDB writes)
``runtime``         warm worker processes per function (``worker``: one Lambda execution environment)
``apigw``           the HTTP front: requests ↔ API Gateway REST proxy events, API keys
``scheduler``       EventBridge rules and Scheduler schedules, fired on their expressions or now
``streams``         DynamoDB stream event sources, polled and delivered
``seed``            demo configuration, the webhook secret and the demo merchant's vendor credentials
``stack``           start-up, ``.local/stack.json``, the ``/_local/`` admin endpoints, clean stop
``cli``             ``run``, ``demo``, ``invoke``, ``fire``
``sandboxes``       the vendors' APIs
==================  ================================================================================
"""
