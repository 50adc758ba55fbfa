"""The ops API's Lambda authorizer: a person's Cognito ID token (Authorization: Bearer) or a
machine's X-Api-Key, on the same routes (see orderbridge.web.ops_auth)."""

from orderbridge.entry import authorizer_handler

lambda_handler = authorizer_handler()
