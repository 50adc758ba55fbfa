"""Signed-in people only: the template guards every ops route with the ops authorizer (a Cognito ID
token or an API key) and keeps the usage plan's key check; the user pool is admin-only with a
strong password policy; the console's client is public and short-lived."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from orderbridge_local import template as tpl

from tests.support.template import TEMPLATE_PATH, resources, template


@cache
def local() -> tpl.LocalTemplate:
    """The template as the SAM translator makes it (what API Gateway is given)."""
    return tpl.load(TEMPLATE_PATH, overrides={"Stage": "test"})


def _ops_routes() -> list[tpl.Route]:
    return [r for r in local().routes if r.resource == "/ops" or r.resource.startswith("/ops/")]


def test_there_are_ops_routes_to_guard():
    assert len(_ops_routes()) >= 10


@pytest.mark.parametrize("route", _ops_routes(), ids=lambda r: f"{r.method} {r.resource}")
def test_every_ops_route_uses_the_ops_authorizer_and_the_usage_plans_key(route: tpl.Route):
    assert route.authorizer == "OpsAuthorizerFunction"
    assert route.authorizer_type == "request"
    assert route.api_key_required  # the key the authorizer returns is checked against the usage plan
    assert route.api_key_source == "AUTHORIZER"


def test_the_authorizer_is_never_cached_and_needs_no_particular_header():
    # Either header may be missing (people have no key, machines no token): no identity source,
    # hence no result cache (a cached Allow would be reused for another caller).
    api = template()["Resources"]["Api"]["Properties"]
    authorizer = api["Auth"]["Authorizers"]["OpsAuthorizer"]
    assert authorizer["FunctionPayloadType"] == "REQUEST"
    assert authorizer["Identity"] == {"ReauthorizeEvery": 0}
    assert api["ApiKeySourceType"] == "AUTHORIZER"


def test_webhooks_and_the_console_page_are_not_behind_the_authorizer():
    public = [r for r in local().routes if r not in _ops_routes()]
    assert public and all(r.authorizer is None and not r.api_key_required for r in public)


def test_the_user_pool_is_admin_only_with_a_strong_password_policy_and_optional_mfa():
    [(name, pool)] = resources("AWS::Cognito::UserPool").items()
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert props["MfaConfiguration"] == "OPTIONAL"
    assert props["DeletionProtection"] == {"Ref": "UserPoolDeletionProtection"}
    assert template()["Parameters"]["UserPoolDeletionProtection"]["Default"] == "ACTIVE"


def test_the_console_client_is_public_password_and_refresh_only_with_short_tokens():
    [(name, client)] = resources("AWS::Cognito::UserPoolClient").items()
    props: dict[str, Any] = client["Properties"]
    assert props["GenerateSecret"] is False  # a browser cannot keep a secret
    assert sorted(props["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    assert props["TokenValidityUnits"]["IdToken"] == "minutes" and props["IdTokenValidity"] <= 60
    assert props["TokenValidityUnits"]["RefreshToken"] == "hours" and props["RefreshTokenValidity"] <= 24
    assert props["PreventUserExistenceErrors"] == "ENABLED"


def test_the_authorizer_knows_the_pool_the_client_and_may_read_only_the_console_key():
    props = template()["Resources"]["OpsAuthorizerFunction"]["Properties"]
    assert props["Environment"]["Variables"] == {
        "USER_POOL_ID": {"Ref": "OpsUserPool"},
        "USER_POOL_CLIENT_ID": {"Ref": "OpsUserPoolClient"},
        "CONSOLE_API_KEY_ID": {"Ref": "ConsoleApiKey"},
    }
    [statement] = props["Policies"][0]["Statement"]
    assert statement["Action"] == ["apigateway:GET"]
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/apikeys/${ConsoleApiKey}"
    }
    # the console's key is one of the usage plan's keys
    plan_keys = resources("AWS::ApiGateway::UsagePlanKey")
    assert any(k["Properties"]["KeyId"] == {"Ref": "ConsoleApiKey"} for k in plan_keys.values())
