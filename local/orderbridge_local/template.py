"""The SAM template, read once and seen three ways: as SAM (what the developer wrote), as the
CloudFormation the SAM translator makes of it (what ``sam deploy`` ships), and as the part of that
CloudFormation the emulator creates (everything but what the local runtime plays itself).

Nothing here keeps a second list of tables, functions or routes: functions and their code come
from ``AWS::Serverless::Function`` (``CodeUri``, ``Handler`` and, after translation, ``Timeout``,
``MemorySize`` and ``Layers`` with Globals applied), routes from the API definition the translator
generates for API Gateway (the ``AWS::ApiGateway::RestApi`` body), schedules and stream sources
from the resources the translator makes of ``Schedule``/``ScheduleV2``/``DynamoDB`` events.

``sam deploy`` uploads local code to S3 before the translator sees the template; the local stack
does the same with placeholders: every local ``CodeUri``/``ContentUri`` becomes
``s3://<ARTIFACT_BUCKET>/<LogicalId>`` (the emulator gets a tiny zip there; the code runs from
the folder) and a local ``DefinitionUri`` is read into ``Definition``.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template
from samtranslator.yaml_helper import yaml_parse

ARTIFACT_BUCKET = "orderbridge-local-artifacts"
DEFAULT_REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"

# Resource types the local runtime plays itself instead of the emulator: API Gateway is the HTTP
# front; EventBridge Scheduler schedules (ScheduleV2) are fired by the local scheduler (moto's
# CloudFormation cannot create them).
FRONT_TYPES = ("AWS::ApiGateway::", "AWS::ApiGatewayV2::")
LOCAL_TYPES = ("AWS::Scheduler::Schedule",)
# Glue resources that only make sense next to what was left out (e.g. the permission that lets
# API Gateway invoke a function): dropped with it.
GLUE_TYPES = ("AWS::Lambda::Permission", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
# Left out of the emulator's CloudFormation but made after the deploy by the local stack, which
# then puts their ids where the placeholders are (:mod:`orderbridge_local.cognito`): no warning.
COMPLETED_LOCALLY = ("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::ApiGateway::ApiKey")

# The translator warns about its own unpublished metrics on every translation.
logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)

_HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
_ANY_METHOD = "x-amazon-apigateway-any-method"
_SUB_REF = re.compile(r"\$\{([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_.]+))?\}")


class TemplateError(Exception):
    """The template cannot be run locally (and says why)."""


@dataclass(frozen=True)
class FunctionSpec:
    """What the local runtime needs to run one function's real handler."""

    logical_id: str
    code_dir: Path
    handler: str
    runtime: str = "python3.11"
    timeout: int = 3
    memory_mb: int = 128
    layer_dirs: tuple[Path, ...] = ()
    reserved_concurrency: int | None = None


@dataclass(frozen=True)
class Route:
    """One method of one resource of a REST API, as API Gateway would serve it."""

    method: str  # upper case, or "ANY"
    resource: str  # e.g. /ops/orders/{order_id}
    function: str  # logical id of the integrated function
    api_key_required: bool = False
    api: str = ""  # logical id of the AWS::ApiGateway::RestApi
    stage: str = ""
    binary_media_types: tuple[str, ...] = ()
    authorizer: str | None = None  # logical id of the Lambda REQUEST/TOKEN authorizer's function
    authorizer_type: str = ""  # "request" or "token"
    api_key_source: str = "HEADER"  # the API's ApiKeySourceType: HEADER or AUTHORIZER


@dataclass
class LocalTemplate:
    path: Path
    region: str
    parameters: dict[str, str]  # effective values (defaults + overrides), as strings
    overrides: dict[str, str]  # what was given on top of the defaults
    sam: dict[str, Any]
    translated: dict[str, Any]
    functions: dict[str, FunctionSpec]
    routes: list[Route]
    code_dirs: dict[str, Path] = field(default_factory=dict)  # artifact key -> folder

    # --------------------------------------------------------------------------- emulator view

    def for_emulator(self, supported: Callable[[str], bool] | None = None) -> tuple[dict[str, Any], list[str]]:
        """The CloudFormation template to create in the emulator, and the logical ids left out:
        the HTTP front's, the local scheduler's, types the emulator's CloudFormation does not
        support (``supported``; e.g. alarms), and glue that only referred to those."""
        template = copy.deepcopy(self.translated)
        resources: dict[str, Any] = template["Resources"]
        left_out = {
            name
            for name, res in resources.items()
            if res["Type"].startswith(FRONT_TYPES)
            or res["Type"] in LOCAL_TYPES
            or (supported is not None and not supported(res["Type"]))
        }
        # Cascade: glue referring to what is left out goes too; anything else that refers to it
        # keeps a placeholder (and a warning), so a function's environment never loses a variable.
        changed = True
        while changed:
            changed = False
            for name, res in resources.items():
                if name in left_out:
                    continue
                refs = references(res.get("Properties", {}))
                if refs & left_out and res["Type"] in GLUE_TYPES:
                    left_out.add(name)
                    changed = True
        for name in left_out:
            resources.pop(name)
        for name, res in resources.items():
            depends = res.get("DependsOn")
            if depends:
                kept = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in left_out]
                if kept:
                    res["DependsOn"] = kept
                else:
                    res.pop("DependsOn")
            props = res.get("Properties", {})
            if references(props) & left_out:
                unresolved = {r for r in references(props) & left_out if self._kind(r) not in COMPLETED_LOCALLY}
                if unresolved:
                    warnings.warn(
                        f"{name} refers to {sorted(unresolved)}, which the emulator does not create; "
                        "placeholders are used",
                        stacklevel=2,
                    )
                res["Properties"] = _placeholders(props, left_out)
            if res["Type"] == "AWS::StepFunctions::StateMachine":
                res["Properties"] = state_machine_properties(props)
        outputs = template.get("Outputs") or {}
        template["Outputs"] = {k: v for k, v in outputs.items() if not references(v) & left_out}
        return template, sorted(left_out)

    def _kind(self, logical_id: str) -> str:
        return str(self.translated["Resources"].get(logical_id, {}).get("Type", ""))

    def resources_of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {n: r for n, r in self.translated["Resources"].items() if r["Type"] == kind}

    def stage_of(self, api: str) -> str:
        for res in self.resources_of_type("AWS::ApiGateway::Stage").values():
            props = res["Properties"]
            if props.get("RestApiId") == {"Ref": api}:
                return str(self.resolve_parameters(props.get("StageName", "")))
        return ""

    def resolve_parameters(self, value: Any) -> Any:
        """``Ref`` to a parameter or pseudo parameter → its value (enough for stage names)."""
        if isinstance(value, dict) and set(value) == {"Ref"}:
            ref = value["Ref"]
            if ref in self.parameters:
                return self.parameters[ref]
            if ref == "AWS::Region":
                return self.region
        return value


# ------------------------------------------------------------------------------------ loading


def load(
    path: str | os.PathLike[str],
    *,
    overrides: Mapping[str, str] | None = None,
    region: str = DEFAULT_REGION,
) -> LocalTemplate:
    """Read, prepare and translate the template at ``path`` with parameter ``overrides``."""
    path = Path(path).resolve()
    sam = yaml_parse(path.read_text())
    if not isinstance(sam, dict) or "Resources" not in sam:
        raise TemplateError(f"{path} is not a CloudFormation/SAM template")
    declared = sam.get("Parameters") or {}
    overrides = {k: str(v) for k, v in (overrides or {}).items() if k in declared}
    parameters = {
        name: _param_str(overrides.get(name, spec.get("Default", "")))
        for name, spec in declared.items()
        if name in overrides or "Default" in spec
    }

    prepared = copy.deepcopy(sam)
    code_dirs = _prepare_artifacts(prepared, path.parent)
    translated = translate(prepared, {**parameters, "AWS::AccountId": ACCOUNT_ID}, region=region)
    local = LocalTemplate(
        path=path,
        region=region,
        parameters=parameters,
        overrides=overrides,
        sam=sam,
        translated=translated,
        functions={},
        routes=[],
        code_dirs=code_dirs,
    )
    local.functions = _functions(local)
    local.routes = _routes(local)
    return local


def translate(template: dict[str, Any], parameter_values: dict[str, Any], *, region: str) -> dict[str, Any]:
    """SAM → CloudFormation with the SAM translator, as ``sam deploy`` does (server side).

    Same steps as ``samtranslator.translator.transform.transform``, with the region given rather
    than taken from the process's AWS configuration."""
    if "Transform" not in template:
        return copy.deepcopy(template)
    fragment = copy.deepcopy(template)
    values = dict(parameter_values)
    try:
        to_py27_compatible_template(fragment, values)
        translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
        # AWS managed policy names resolve from the translator's bundled map; nothing asks IAM.
        translated = translator.translate(fragment, parameter_values=values, get_managed_policy_map=dict)
        return undo_mark_unicode_str_in_template(translated)
    except Exception as exc:  # the translator's InvalidDocumentException lists every cause
        causes = getattr(exc, "causes", None) or []
        detail = "; ".join(str(c) for c in causes) or str(exc)
        raise TemplateError(f"the SAM translator refused the template: {detail}") from exc


def _param_str(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _local_path(value: Any, base: Path) -> Path | None:
    """A CodeUri-like value that names a local folder or file (not s3://, not a dict)."""
    if not isinstance(value, str) or value.startswith("s3://"):
        return None
    candidate = Path(value)
    return candidate if candidate.is_absolute() else (base / candidate)


def _prepare_artifacts(sam: dict[str, Any], base: Path) -> dict[str, Path]:
    """Local code → S3 placeholders (as ``sam package`` would upload it); local ASL/OpenAPI files
    → inline definitions. Returns artifact key → local folder."""
    code_dirs: dict[str, Path] = {}
    globals_fn = (sam.get("Globals") or {}).get("Function") or {}
    for name, res in sam["Resources"].items():
        kind = res.get("Type")
        props = res.setdefault("Properties", {}) if isinstance(res, dict) else {}
        if kind == "AWS::Serverless::Function":
            if props.get("InlineCode") is not None or props.get("PackageType") == "Image":
                raise TemplateError(f"{name}: only functions with a local CodeUri can run locally")
            code = _local_path(props.get("CodeUri", globals_fn.get("CodeUri")), base)
            if code is None:
                raise TemplateError(f"{name}: CodeUri must be a local folder to run locally")
            if not code.is_dir():
                raise TemplateError(f"{name}: CodeUri {code} is not a folder")
            props["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{name}"
            code_dirs[name] = code.resolve()
        elif kind == "AWS::Serverless::LayerVersion":
            content = _local_path(props.get("ContentUri"), base)
            if content is None or not content.is_dir():
                raise TemplateError(f"{name}: ContentUri must be a local folder to run locally")
            props["ContentUri"] = f"s3://{ARTIFACT_BUCKET}/{name}"
            code_dirs[name] = content.resolve()
        elif kind == "AWS::Serverless::StateMachine":
            definition = _local_path(props.get("DefinitionUri"), base)
            if definition is not None:
                props.pop("DefinitionUri")
                props["Definition"] = _read_document(definition)
        elif kind == "AWS::Serverless::Api":
            definition = _local_path(props.get("DefinitionUri"), base)
            if definition is not None:
                props.pop("DefinitionUri")
                props["DefinitionBody"] = _read_document(definition)
    return code_dirs


def _read_document(path: Path) -> Any:
    text = path.read_text()
    try:
        return json.loads(text)
    except ValueError:
        return yaml_parse(text)


# ----------------------------------------------------------------------------------- functions


def _functions(local: LocalTemplate) -> dict[str, FunctionSpec]:
    layers_by_logical: dict[str, Path] = {}
    for name, res in local.resources_of_type("AWS::Lambda::LayerVersion").items():
        key = (res["Properties"].get("Content") or {}).get("S3Key")
        if key in local.code_dirs:
            layers_by_logical[name] = _layer_path(local.code_dirs[key])
    out: dict[str, FunctionSpec] = {}
    for name, res in local.resources_of_type("AWS::Lambda::Function").items():
        props = res["Properties"]
        key = (props.get("Code") or {}).get("S3Key")
        if key not in local.code_dirs:
            continue  # not a function of ours with local code (e.g. a custom resource helper)
        layer_dirs = []
        for layer in props.get("Layers") or []:
            ref = layer.get("Ref") if isinstance(layer, dict) else None
            if ref in layers_by_logical:
                layer_dirs.append(layers_by_logical[ref])
            else:
                warnings.warn(f"{name}: layer {layer!r} is not local; it is not on the path", stacklevel=2)
        runtime = str(props.get("Runtime", "python3.11"))
        if not runtime.startswith("python"):
            raise TemplateError(f"{name}: runtime {runtime} cannot run locally (Python only)")
        out[name] = FunctionSpec(
            logical_id=name,
            code_dir=local.code_dirs[key],
            handler=str(props["Handler"]),
            runtime=runtime,
            timeout=int(local.resolve_parameters(props.get("Timeout", 3))),
            memory_mb=int(local.resolve_parameters(props.get("MemorySize", 128))),
            layer_dirs=tuple(layer_dirs),
            reserved_concurrency=_int_or_none(props.get("ReservedConcurrentExecutions")),
        )
    return out


def _layer_path(folder: Path) -> Path:
    """Where a layer's Python code sits: ``python/`` when the folder is laid out as a built layer,
    else the folder itself (``BuildMethod: python3.x`` builds the folder into ``python/``)."""
    return folder / "python" if (folder / "python").is_dir() else folder


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -------------------------------------------------------------------------------------- routes


def _routes(local: LocalTemplate) -> list[Route]:
    routes: list[Route] = []
    for api, res in local.resources_of_type("AWS::ApiGateway::RestApi").items():
        body = res["Properties"].get("Body")
        if not isinstance(body, dict):
            warnings.warn(f"{api}: a REST API without an inline definition is not served locally", stacklevel=2)
            continue
        stage = local.stage_of(api)
        schemes = {
            **(body.get("securityDefinitions") or {}),
            **((body.get("components") or {}).get("securitySchemes") or {}),
        }
        key_schemes = {
            name
            for name, scheme in schemes.items()
            if scheme.get("type") == "apiKey" and str(scheme.get("name", "")).lower() == "x-api-key"
        }
        binary = tuple(str(t).replace("~1", "/") for t in body.get("x-amazon-apigateway-binary-media-types") or [])
        lambda_authorizers = {
            name: (function, str(config.get("type", "token")).lower())
            for name, scheme in schemes.items()
            if scheme.get("x-amazon-apigateway-authtype") == "custom"
            and isinstance(config := scheme.get("x-amazon-apigateway-authorizer") or {}, dict)
            and (function := integrated_function(config.get("authorizerUri"))) is not None
        }
        key_source = str(
            res["Properties"].get("ApiKeySourceType") or body.get("x-amazon-apigateway-api-key-source") or "HEADER"
        ).upper()
        for resource, operations in (body.get("paths") or {}).items():
            for method, operation in operations.items():
                if method not in _HTTP_METHODS and method != _ANY_METHOD:
                    continue
                integration = operation.get("x-amazon-apigateway-integration") or {}
                if integration.get("type") != "aws_proxy":
                    warnings.warn(
                        f"{api} {method.upper()} {resource}: only Lambda proxy integrations run locally", stacklevel=2
                    )
                    continue
                function = integrated_function(integration.get("uri"))
                if function is None or function not in local.functions:
                    warnings.warn(
                        f"{api} {method.upper()} {resource}: the integrated function is not local", stacklevel=2
                    )
                    continue
                security = operation.get("security", body.get("security")) or []
                authorizer = next(
                    (
                        lambda_authorizers[name]
                        for requirement in security
                        for name in requirement
                        if name in lambda_authorizers
                    ),
                    None,
                )
                routes.append(
                    Route(
                        method="ANY" if method == _ANY_METHOD else method.upper(),
                        resource=resource,
                        function=function,
                        api_key_required=any(key_schemes & set(requirement) for requirement in security),
                        api=api,
                        stage=stage,
                        binary_media_types=binary,
                        authorizer=authorizer[0] if authorizer else None,
                        authorizer_type=authorizer[1] if authorizer else "",
                        api_key_source=key_source,
                    )
                )
    return routes


def integrated_function(uri: Any) -> str | None:
    """The logical id of the function in a Lambda proxy integration URI such as
    ``{"Fn::Sub": "arn:...:functions/${MyFunction.Arn}/invocations"}``."""
    if isinstance(uri, dict) and "Fn::Sub" in uri:
        sub = uri["Fn::Sub"]
        text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
        for match in _SUB_REF.finditer(text):
            name, attr = match.group(1), match.group(2)
            if name in variables:
                inner = variables[name]
                if isinstance(inner, dict) and "Fn::GetAtt" in inner:
                    return str(inner["Fn::GetAtt"][0])
                if isinstance(inner, dict) and "Ref" in inner:
                    return str(inner["Ref"])
            elif attr == "Arn":
                return name
    if isinstance(uri, dict) and "Fn::Join" in uri:
        for part in uri["Fn::Join"][1]:
            if isinstance(part, dict) and "Fn::GetAtt" in part:
                return str(part["Fn::GetAtt"][0])
    return None


# ------------------------------------------------------------------------- references, helpers


def references(value: Any) -> set[str]:
    """Logical ids (and parameters) a template fragment refers to: Ref, GetAtt, Sub."""
    found: set[str] = set()
    for node in _walk(value):
        if isinstance(node, dict):
            if "Ref" in node and isinstance(node["Ref"], str):
                found.add(node["Ref"])
            if "Fn::GetAtt" in node:
                target = node["Fn::GetAtt"]
                found.add(target[0] if isinstance(target, list) else str(target).split(".")[0])
            if "Fn::Sub" in node:
                sub = node["Fn::Sub"]
                text = sub if isinstance(sub, str) else sub[0]
                variables = {} if isinstance(sub, str) else sub[1]
                found.update(m.group(1) for m in _SUB_REF.finditer(text) if m.group(1) not in variables)
    return found


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _placeholders(value: Any, missing: set[str]) -> Any:
    """References to resources the emulator does not create → ``local-<LogicalId>``."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in missing:
            return f"local-{value['Ref']}"
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            name = target[0] if isinstance(target, list) else str(target).split(".")[0]
            if name in missing:
                return f"local-{name}"
        if set(value) == {"Fn::Sub"}:
            sub = value["Fn::Sub"]
            text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])

            def replace(m: re.Match[str]) -> str:
                name = m.group(1)
                return f"local-{name}" if name in missing and name not in variables else m.group(0)

            text = _SUB_REF.sub(replace, text)
            return {"Fn::Sub": text if isinstance(sub, str) else [text, _placeholders(variables, missing)]}
        return {k: _placeholders(v, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v, missing) for v in value]
    return value


def state_machine_properties(props: dict[str, Any]) -> dict[str, Any]:
    """``DefinitionString`` with ``DefinitionSubstitutions`` applied as CloudFormation does (only
    the keys of the map are replaced), expressed as one ``Fn::Join`` the emulator resolves — the
    emulator's CloudFormation reads ``DefinitionString`` only."""
    props = dict(props)
    if "Definition" in props and "DefinitionString" not in props:
        props["DefinitionString"] = json.dumps(props.pop("Definition"), indent=2)
    substitutions = props.pop("DefinitionSubstitutions", None) or {}
    if "DefinitionS3Location" in props:
        raise TemplateError("a state machine definition in S3 cannot run locally; use a local DefinitionUri")
    parts = _string_parts(props.get("DefinitionString", ""))
    if not substitutions:
        if all(isinstance(p, str) for p in parts):
            props["DefinitionString"] = "".join(parts)
        return props
    pattern = re.compile(r"\$\{(" + "|".join(re.escape(k) for k in substitutions) + r")\}")
    joined: list[Any] = []
    for part in parts:
        if not isinstance(part, str):
            joined.append(part)
            continue
        position = 0
        for match in pattern.finditer(part):
            joined.append(part[position : match.start()])
            value = substitutions[match.group(1)]
            joined.append(value if not isinstance(value, bool | int | float) else _param_str(value))
            position = match.end()
        joined.append(part[position:])
    props["DefinitionString"] = {"Fn::Join": ["", [p for p in joined if p != ""]]}
    return props


def _string_parts(value: Any) -> list[Any]:
    """A DefinitionString (a string or an ``Fn::Join``) as a flat list of strings and intrinsics."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        delimiter, items = value["Fn::Join"]
        out: list[Any] = []
        for index, item in enumerate(items):
            if index:
                out.append(delimiter)
            out.extend(_string_parts(item))
        merged: list[Any] = []
        for part in out:
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += part
            else:
                merged.append(part)
        return merged
    return [value]
