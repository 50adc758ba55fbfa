"""The ops API (every /ops/* route; the ops authorizer lets in a signed-in person or a machine's API
key before it runs): orders, the catalog, the Blink records and the configuration — docs/openapi.json."""

from orderbridge.entry import ops_api_handler

lambda_handler = ops_api_handler()
