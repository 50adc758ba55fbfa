"""The AWS data-plane calls each Lambda of template.yaml can make, derived statically from its code.

Why static: a run (moto) sees only the paths a test drives, so it cannot prove a permission unused;
the code's shape makes a static walk precise enough. Every AWS call goes through
``orderbridge.store`` (a store class per table, bound to its table in ``orderbridge.deps``), the
``Workflow`` gateway (Step Functions), ``store.secrets`` and ``store.dead_letters``; Powertools
idempotency makes its own DynamoDB calls for an action declared ``@action(idempotent=True)``.

The walk starts at a function's ``functions/<dir>/app.py`` (the entry factory it calls and the use
case it hands it) and follows, through the whole ``orderbridge`` package:

- calls and references (a callback is a reference) to module functions and classes, resolved
  through each module's imports (lazy imports inside functions included);
- method calls and property reads on values whose class is known: ``self``, annotated parameters,
  ``x = Class(...)``, ``deps.<property>`` (``Deps``' annotated cached properties), ``self.x`` set from
  an annotated ``__init__`` parameter;
- inside a store, the boto3 operation (``self.client.put_item(...)``, ``.query(**q)``), the items of
  a transaction (``{"Put": {...}}`` → PutItem: IAM checks a TransactWriteItems per item), the tables
  it names (``self.table`` → the store's table; ``config.table`` → the ConfigStore's) and the
  indexes (``*_INDEX`` constants, ``"IndexName": "..."``). A store module's plain functions
  (``batch_get``, ``query_items``, query builders) count as part of the method that calls them.

A call the walk cannot type is skipped: ``unresolved_store_like`` lists the skipped method calls
whose name is a store method's, so a gap shows instead of hiding.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tests.support.template import ROOT, resources

PACKAGE_ROOT = ROOT / "layers" / "shared"
STORE_PACKAGE = "orderbridge.store"

# Settings field → the table's logical id in template.yaml.
SETTINGS_TABLES = {
    "orders_table": "OrdersTable",
    "config_table": "ConfigTable",
    "rents_table": "RentsTable",
    "idempotency_table": "IdempotencyTable",
}

DYNAMODB_OPERATIONS = {
    "get_item": "GetItem",
    "put_item": "PutItem",
    "update_item": "UpdateItem",
    "delete_item": "DeleteItem",
    "query": "Query",
    "scan": "Scan",
    "batch_get_item": "BatchGetItem",
    "batch_write_item": "BatchWriteItem",
    "transact_get_items": "GetItem",  # IAM checks a TransactGetItems per item
}
# A transaction's items: IAM checks each as its own action.
TRANSACTION_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
STEP_FUNCTIONS_OPERATIONS = {
    "start_execution": "StartExecution",
    "describe_execution": "DescribeExecution",
    "stop_execution": "StopExecution",
    "send_task_success": "SendTaskSuccess",
    "send_task_failure": "SendTaskFailure",
    "send_task_heartbeat": "SendTaskHeartbeat",
}
# What Powertools' DynamoDBPersistenceLayer calls (get on "already exists", put, update on
# success, delete on failure).
IDEMPOTENCY_CALLS = {("dynamodb", op, "IdempotencyTable") for op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")}

# Calls whose AWS effect is not written as a boto3 call in our code (Powertools makes it), by the
# function or property of ours that makes it happen.
SECRET_READS = {
    "orderbridge.store.secrets.SecretsSource.get": "secret:WebhookSecretName",
    "orderbridge.store.secrets.SecretsSource.tokens_in": "secret:orderbridge/partners/",
    "orderbridge.deps.Deps.vendors": "secret:VendorCredentialsSecretPrefix",
}
# Method names of dicts, lists, strings and sets: a call by one of these names on an untyped value
# is not reported as a possible store call.
BUILTIN_METHODS = frozenset(name for kind in (dict, list, str, set, object) for name in dir(kind))
IDEMPOTENCY_STORE = "orderbridge.deps.Deps.idempotency_store"
WORKFLOW = "orderbridge.store.workflow.Workflow"
RUN_ACTION = "orderbridge.actions.runtime.run_action"


@dataclass(frozen=True, order=True)
class Call:
    """One AWS data-plane call: service, IAM action name, resource (a table's logical id, or
    ``Table/index/name``; ``secret:<which>``, ``OrderWorkflow``, ``queue``, ``apikey``)."""

    service: str
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.service}:{self.action} on {self.resource}"


@dataclass
class Function:
    key: str  # module.qualname
    module: str
    cls: str | None  # the class's key when a method
    node: ast.FunctionDef | ast.AsyncFunctionDef
    is_property: bool = False


@dataclass
class ClassInfo:
    key: str
    module: str
    node: ast.ClassDef
    bases: list[str] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)  # name → function key
    attributes: dict[str, str] = field(default_factory=dict)  # self.<name> → class key


@dataclass
class Module:
    name: str
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name → qualified name
    definitions: dict[str, str] = field(default_factory=dict)  # top-level name → key
    constants: dict[str, str] = field(default_factory=dict)  # NAME = "string"


@dataclass
class Effects:
    """What one function body does itself (store helpers merged in)."""

    operations: set[str] = field(default_factory=set)  # DynamoDB IAM actions
    tables: set[str] = field(default_factory=set)
    indexes: set[str] = field(default_factory=set)
    other: set[Call] = field(default_factory=set)
    edges: set[str] = field(default_factory=set)  # function keys it calls or references
    unresolved: set[str] = field(default_factory=set)
    # edge → the optional parameters (default None) of this function of which one must be given
    # for the edge to be taken (``[g(x)] if x else []``, ``if x: g(x)``)
    guarded: dict[str, set[str]] = field(default_factory=dict)
    # callee → the parameters this body passes it ("*": any, a reference or ``**kwargs``)
    passes: dict[str, set[str]] = field(default_factory=dict)


class Package:
    """The ``orderbridge`` package, parsed once."""

    def __init__(self) -> None:
        self.modules: dict[str, Module] = {}
        self.functions: dict[str, Function] = {}
        self.classes: dict[str, ClassInfo] = {}
        for path in sorted((PACKAGE_ROOT / "orderbridge").rglob("*.py")):
            self._load(path)
        for module in self.modules.values():
            self._index_imports(module)
        self._class_attributes()
        self.store_tables = self._store_tables()
        self.store_method_names = {
            name for info in self.classes.values() if info.key in self.store_tables for name in info.methods
        }

    # -- indexing ---------------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        parts = path.relative_to(PACKAGE_ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text(), str(path))
        module = Module(name, tree)
        self.modules[name] = module
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                key = f"{name}.{node.name}"
                module.definitions[node.name] = key
                self.functions[key] = Function(key, name, None, node)
            elif isinstance(node, ast.ClassDef):
                key = f"{name}.{node.name}"
                module.definitions[node.name] = key
                info = ClassInfo(key, name, node)
                self.classes[key] = info
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        method = f"{key}.{item.name}"
                        info.methods[item.name] = method
                        prop = any(_name_of(d) in {"property", "cached_property"} for d in item.decorator_list)
                        self.functions[method] = Function(method, name, key, item, prop)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                        module.constants[target.id] = node.value.value

    def _index_imports(self, module: Module) -> None:
        package = module.name if module.name in self._packages() else module.name.rpartition(".")[0]
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = f"{base}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )

    @cache  # noqa: B019 - one Package per test session
    def _packages(self) -> frozenset[str]:
        return frozenset(
            ".".join(p.relative_to(PACKAGE_ROOT).parts[:-1])
            for p in (PACKAGE_ROOT / "orderbridge").rglob("__init__.py")
        )

    def _class_details(self, info: ClassInfo) -> None:
        module = self.modules[info.module]
        info.bases = [b for b in (self.resolve_name(module, _name_of(base) or "") for base in info.node.bases) if b]
        for item in info.node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                typed = self.annotation_class(module, item.annotation)
                if typed:
                    info.attributes[item.target.id] = typed
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                returns = self.annotation_class(module, item.returns) if item.returns is not None else None
                if returns and any(_name_of(d) in {"property", "cached_property"} for d in item.decorator_list):
                    info.attributes[item.name] = returns
                if item.name == "__init__":
                    params = {a.arg: self.annotation_class(module, a.annotation) for a in _arguments(item)}
                    known = {name: cls for name, cls in params.items() if cls}
                    for stmt in ast.walk(item):
                        if isinstance(stmt, ast.Assign | ast.AnnAssign):
                            for target, value in _pairs(stmt):
                                if not _is_self_attribute(target):
                                    continue
                                typed = self._expr_type(value, module, known) if value is not None else None
                                if isinstance(stmt, ast.AnnAssign):
                                    typed = self.annotation_class(module, stmt.annotation) or typed
                                if typed:
                                    info.attributes[target.attr] = typed  # type: ignore[attr-defined]

    def _class_attributes(self) -> None:
        for _ in range(3):  # a class's attributes may be typed by another's (``self.deps = run.deps``)
            for info in self.classes.values():
                self._class_details(info)

    def _store_tables(self) -> dict[str, str]:
        """Store class → its table, from every construction ``Store(<client>, <settings>.x_table)``."""
        found: dict[str, set[str]] = {}
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if not isinstance(node, ast.Call) or len(node.args) < 2:
                    continue
                cls = self.resolve_name(module, _name_of(node.func) or "")
                table = node.args[1]
                if cls in self.classes and isinstance(table, ast.Attribute) and table.attr in SETTINGS_TABLES:
                    found.setdefault(cls, set()).add(SETTINGS_TABLES[table.attr])
        ambiguous = {cls: tables for cls, tables in found.items() if len(tables) > 1}
        assert not ambiguous, f"a store class bound to more than one table: {ambiguous}"
        return {cls: tables.pop() for cls, tables in found.items()}

    # -- resolution -------------------------------------------------------------------------------

    def resolve_name(self, module: Module, dotted: str) -> str | None:
        """A (dotted) name as written in ``module`` → a function, class or module key of ours."""
        if not dotted:
            return None
        head, _, rest = dotted.partition(".")
        base = module.definitions.get(head) or module.imports.get(head)
        if base is None:
            return None
        qualified = f"{base}.{rest}" if rest else base
        # "from orderbridge.webhooks import blink" names a module; "from x import f" a definition
        while qualified not in self.functions and qualified not in self.classes and qualified not in self.modules:
            module_name, _, tail = qualified.rpartition(".")
            if module_name in self.modules and tail in self.modules[module_name].imports:
                qualified = self.modules[module_name].imports[tail]  # re-exported
                continue
            return None
        return qualified

    def annotation_class(self, module: Module, annotation: ast.expr | None) -> str | None:
        if annotation is None:
            return None
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(annotation, ast.BinOp):  # X | None
            return self.annotation_class(module, annotation.left) or self.annotation_class(module, annotation.right)
        if isinstance(annotation, ast.Subscript):  # Optional[X]
            return self.annotation_class(module, annotation.slice)
        key = self.resolve_name(module, _name_of(annotation) or "")
        return key if key in self.classes else None

    def method(self, cls: str, name: str) -> str | None:
        seen: list[str] = [cls]
        while seen:
            current = seen.pop(0)
            info = self.classes.get(current)
            if info is None:
                continue
            if name in info.methods:
                return info.methods[name]
            seen.extend(info.bases)
        return None

    def attribute_type(self, cls: str, name: str) -> str | None:
        seen: list[str] = [cls]
        while seen:
            current = seen.pop(0)
            info = self.classes.get(current)
            if info is None:
                continue
            if name in info.attributes:
                return info.attributes[name]
            seen.extend(info.bases)
        return None

    # -- one body ---------------------------------------------------------------------------------

    @cache  # noqa: B019 - one Package per test session
    def _own_effects(self, key: str) -> Effects:
        """What function ``key``'s own body does (nested functions and lambdas included)."""
        function = self.functions[key]
        module = self.modules[function.module]
        out = Effects()
        types = self._local_types(function, module)

        def typeof(expr: ast.expr) -> str | None:
            if isinstance(expr, ast.Name):
                return types.get(expr.id)
            if isinstance(expr, ast.Attribute):
                owner = typeof(expr.value)
                return self.attribute_type(owner, expr.attr) if owner else None
            if isinstance(expr, ast.Call):
                target = self._target(expr.func, module, typeof)
                if target in self.classes:
                    return target
                if target in self.functions:
                    node = self.functions[target].node
                    return self.annotation_class(self.modules[self.functions[target].module], node.returns)
            return None

        guards = _guards(function.node)
        unguarded: set[str] = set()
        guarded: dict[str, set[str]] = {}

        def edge(target: str, node: ast.AST) -> None:
            out.edges.add(target)
            if id(node) in guards:
                guarded.setdefault(target, set()).add(guards[id(node)])
            else:
                unguarded.add(target)

        called = {id(node.func) for node in ast.walk(function.node) if isinstance(node, ast.Call)}
        for node in ast.walk(function.node):
            if isinstance(node, ast.Attribute) and node.attr == "table":
                owner = typeof(node.value)
                if owner in self.store_tables:
                    out.tables.add(self.store_tables[owner])
            if (
                isinstance(node, ast.Attribute)
                and node.attr in SETTINGS_TABLES
                and (_name_of(node.value) or "").endswith("settings")
            ):
                out.tables.add(SETTINGS_TABLES[node.attr])
            if isinstance(node, ast.Name) and node.id.endswith("_INDEX"):
                value = self._constant(module, node.id)
                if value:
                    out.indexes.add(value)
            if isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(k, ast.Constant)
                        and k.value in TRANSACTION_ITEMS
                        and isinstance(v, ast.Dict | ast.Name)
                    ):
                        out.operations.add(TRANSACTION_ITEMS[k.value])
                    if isinstance(k, ast.Constant) and k.value == "IndexName" and isinstance(v, ast.Constant):
                        out.indexes.add(str(v.value))
            if isinstance(node, ast.keyword) and node.arg == "IndexName" and isinstance(node.value, ast.Constant):
                out.indexes.add(str(node.value.value))
            if isinstance(node, ast.Call):
                target = self._call_effects(node, function, module, typeof, out)
                if target:
                    edge(target, node)
                    out.passes.setdefault(target, set()).update(self._passed(target, node))
            elif (
                isinstance(node, ast.Name | ast.Attribute)
                and isinstance(getattr(node, "ctx", None), ast.Load)
                and id(node) not in called
            ):
                target = self._target(node, module, typeof)
                if target in self.functions:
                    edge(target, node)
                    if not self.functions[target].is_property:
                        out.passes.setdefault(target, set()).add("*")  # a callback: called with anything
        out.guarded = {target: params for target, params in guarded.items() if target not in unguarded}
        return out

    def _passed(self, target: str, call: ast.Call) -> set[str]:
        """The parameters of ``target`` a call gives (by keyword or by position)."""
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return {"*"}
        callee = self.functions[target]
        params = [a.arg for a in [*callee.node.args.posonlyargs, *callee.node.args.args]]
        if callee.cls and params[:1] == ["self"] and isinstance(call.func, ast.Attribute):
            params = params[1:]
        return {k.arg for k in call.keywords if k.arg} | set(params[: len(call.args)])

    @cache  # noqa: B019 - one Package per test session
    def effects(self, key: str) -> Effects:
        """What function ``key``'s body does (nested functions and lambdas included), with the
        plain functions of the store modules it calls (transitively) merged in."""
        out = self._own_effects(key)
        merged = Effects(
            set(out.operations),
            set(out.tables),
            set(out.indexes),
            set(out.other),
            set(),
            set(out.unresolved),
            dict(out.guarded),
            {callee: set(given) for callee, given in out.passes.items()},
        )
        seen = {key}
        todo = list(out.edges)
        while todo:
            edge = todo.pop()
            if edge in seen:
                continue
            seen.add(edge)
            if not self._is_store_helper(edge):
                merged.edges.add(edge)
                continue
            helper = self._own_effects(edge)
            for callee, given in helper.passes.items():
                merged.passes.setdefault(callee, set()).update(given)
            merged.operations |= helper.operations
            merged.indexes |= helper.indexes
            merged.tables |= helper.tables
            merged.other |= helper.other
            merged.unresolved |= helper.unresolved
            todo.extend(helper.edges)
        return merged

    def _is_store_helper(self, key: str) -> bool:
        function = self.functions[key]
        return function.cls is None and function.module.startswith(STORE_PACKAGE)

    def _call_effects(
        self, node: ast.Call, function: Function, module: Module, typeof: object, out: Effects
    ) -> str | None:
        """Record what a call does; the function of ours it calls, if any."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "_call" and function.cls == WORKFLOW:
            # Workflow._call(operation, ...) makes the call by the name its caller gives
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and first.value in STEP_FUNCTIONS_OPERATIONS:
                out.other.add(Call("states", STEP_FUNCTIONS_OPERATIONS[first.value], "OrderWorkflow"))
        target = self._target(func, module, typeof)  # type: ignore[arg-type]
        if target in self.classes:
            return self.method(target, "__init__")
        if target in self.functions:
            return target
        if not isinstance(func, ast.Attribute):
            return None
        name = func.attr
        if name in DYNAMODB_OPERATIONS:
            out.operations.add(DYNAMODB_OPERATIONS[name])
        elif name in STEP_FUNCTIONS_OPERATIONS:
            out.other.add(Call("states", STEP_FUNCTIONS_OPERATIONS[name], "OrderWorkflow"))
        elif name == "send_message":
            out.other.add(Call("sqs", "SendMessage", "queue"))
        elif name == "get_api_key":
            out.other.add(Call("apigateway", "GET", "apikey"))
        elif name in self.store_method_names - BUILTIN_METHODS and typeof(func.value) is None:  # type: ignore[operator]
            out.unresolved.add(f"{function.key}: .{name}(...)")
        return None

    def _target(self, expr: ast.expr, module: Module, typeof: object) -> str | None:
        """The function, method, property or class an expression names, when known."""
        if isinstance(expr, ast.Name):
            return self.resolve_name(module, expr.id)
        if isinstance(expr, ast.Attribute):
            dotted = _name_of(expr)
            if dotted:
                direct = self.resolve_name(module, dotted)
                if direct in self.functions or direct in self.classes:
                    return direct
            owner = typeof(expr.value)  # type: ignore[operator]
            if owner:
                return self.method(owner, expr.attr)
        return None

    def _local_types(self, function: Function, module: Module) -> dict[str, str]:
        types: dict[str, str] = {}
        if function.cls:
            types["self"] = function.cls
        for node in ast.walk(function.node):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                for arg in _arguments(node):
                    typed = self.annotation_class(module, arg.annotation)
                    if typed:
                        types[arg.arg] = typed
        # Assignments, twice so that one may use another.
        for _ in range(2):
            for node in ast.walk(function.node):
                if isinstance(node, ast.Assign | ast.AnnAssign):
                    for target, value in _pairs(node):
                        typed = self._expr_type(value, module, types) if value is not None else None
                        if isinstance(node, ast.AnnAssign):
                            typed = self.annotation_class(module, node.annotation) or typed
                        if isinstance(target, ast.Name) and typed:
                            types[target.id] = typed
        return types

    def _expr_type(self, expr: ast.expr, module: Module, types: dict[str, str]) -> str | None:
        if isinstance(expr, ast.Name):
            return types.get(expr.id)
        if isinstance(expr, ast.Attribute):
            owner = self._expr_type(expr.value, module, types)
            return self.attribute_type(owner, expr.attr) if owner else None
        if isinstance(expr, ast.Call):
            target = self.resolve_name(module, _name_of(expr.func) or "")
            if target in self.classes:
                return target
            if target in self.functions:
                fn = self.functions[target]
                return self.annotation_class(self.modules[fn.module], fn.node.returns)
        return None

    def _constant(self, module: Module, name: str) -> str | None:
        if name in module.constants:
            return module.constants[name]
        qualified = module.imports.get(name)
        if qualified:
            owner, _, tail = qualified.rpartition(".")
            if owner in self.modules:
                return self.modules[owner].constants.get(tail)
        return None

    # -- a whole function -------------------------------------------------------------------------

    def reachable(self, roots: set[str], *, skip: set[tuple[str, str]] = frozenset()) -> set[str]:  # type: ignore[assignment]
        """The functions reached from ``roots``. An edge guarded by an optional parameter is taken
        only once a reached caller gives that parameter (to a fixed point)."""
        seen = set(roots)
        passed: dict[str, set[str]] = {root: {"*"} for root in roots}
        changed = True
        while changed:
            changed = False
            for key in sorted(seen):
                effects = self.effects(key)
                for callee, given in effects.passes.items():
                    if (key, callee) not in skip and not given <= passed.setdefault(callee, set()):
                        passed[callee] |= given
                        changed = True
                for edge in effects.edges:
                    if (key, edge) in skip or edge in seen:
                        continue
                    needs = effects.guarded.get(edge)
                    if needs and not needs & passed.get(key, set()) and "*" not in passed.get(key, set()):
                        continue
                    seen.add(edge)
                    changed = True
        return seen

    def calls_of(self, keys: set[str]) -> set[Call]:
        calls: set[Call] = set()
        index_tables = _index_tables()
        for key in keys:
            effects = self.effects(key)
            calls |= effects.other
            if key in SECRET_READS:
                calls.add(Call("secretsmanager", "GetSecretValue", SECRET_READS[key]))
            if key == IDEMPOTENCY_STORE:
                calls |= {Call(*c) for c in IDEMPOTENCY_CALLS}
            owner = self.functions[key].cls
            # a store's method that names no table (``**self.event_guard(...)["Put"]``) works on its own
            tables = effects.tables or ({self.store_tables[owner]} if owner in self.store_tables else set())
            for operation in effects.operations:
                if operation == "Query" and effects.indexes:
                    calls |= {Call("dynamodb", "Query", f"{index_tables[i]}/index/{i}") for i in effects.indexes}
                    continue
                assert tables, f"{key}: {operation} on a table the walk cannot name"
                calls |= {Call("dynamodb", operation, table) for table in tables}
        return calls


@dataclass(frozen=True)
class Derived:
    function: str  # the template's logical id
    calls: frozenset[Call]
    unresolved: frozenset[str]
    reached: int  # functions of ours on its code path


@cache
def package() -> Package:
    return Package()


@cache
def derive(logical_id: str) -> Derived:
    """The AWS calls the Lambda ``logical_id`` of template.yaml can make."""
    pkg = package()
    props = resources("AWS::Serverless::Function")[logical_id]["Properties"]
    app = ROOT / props["CodeUri"] / f"{props['Handler'].split('.')[0]}.py"
    tree = ast.parse(app.read_text(), str(app))
    handler = Module(f"functions.{app.parent.name}.app", tree)
    pkg.modules[handler.name] = handler
    pkg._index_imports(handler)
    roots: set[str] = set()
    idempotent = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name | ast.Attribute):
            target = pkg.resolve_name(handler, _name_of(node) or "")
            if target in pkg.functions:
                roots.add(target)
                idempotent |= _declared_idempotent(pkg.functions[target].node)
    # run_action reads the idempotency layer only for an action declared idempotent: that is
    # decided by the action's decorator, not by the shared runner.
    skip = {(RUN_ACTION, f"orderbridge.deps.Deps.{p}") for p in ("idempotency_store", "idempotency_config")}
    reached = pkg.reachable(roots, skip=skip)
    calls = pkg.calls_of(reached)
    if idempotent:
        calls |= {Call(*c) for c in IDEMPOTENCY_CALLS}
    unresolved = frozenset(u for key in reached for u in pkg.effects(key).unresolved)
    return Derived(logical_id, frozenset(calls), unresolved, len(reached))


@cache
def _index_tables() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, res in resources("AWS::DynamoDB::Table").items():
        for index in res["Properties"].get("GlobalSecondaryIndexes") or []:
            assert index["IndexName"] not in out, "index names are unique across tables"
            out[index["IndexName"]] = name
    return out


def _declared_idempotent(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and _name_of(decorator.func) == "action":
            for keyword in decorator.keywords:
                if keyword.arg == "idempotent" and isinstance(keyword.value, ast.Constant):
                    return bool(keyword.value.value)
    return False


def _arguments(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> Iterator[ast.arg]:
    args = node.args
    yield from args.posonlyargs
    yield from args.args
    yield from args.kwonlyargs
    if args.vararg:
        yield args.vararg
    if args.kwarg:
        yield args.kwarg


def _guards(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[int, str]:
    """id(node) → the optional parameter (default None) whose truth the node runs under:
    ``if p:`` / ``if p is not None:`` bodies and ``a if p else b``'s ``a``."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    optional = {
        a.arg
        for a, d in zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
        if _is_none(d)
    }
    optional |= {a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None and _is_none(d)}
    out: dict[int, str] = {}

    def param(test: ast.expr) -> str | None:
        if isinstance(test, ast.Name) and test.id in optional:
            return test.id
        if (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id in optional
            and isinstance(test.ops[0], ast.IsNot)
            and _is_none(test.comparators[0])
        ):
            return test.left.id
        return None

    for node in ast.walk(function):
        if isinstance(node, ast.If | ast.IfExp) and (name := param(node.test)):
            body = node.body if isinstance(node, ast.If) else [node.body]
            for part in body:
                for inner in ast.walk(part):
                    out.setdefault(id(inner), name)
    return out


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _pairs(node: ast.Assign | ast.AnnAssign) -> Iterator[tuple[ast.expr, ast.expr | None]]:
    """(target, value) of an assignment, tuples unpacked pairwise (``a, b = x, y``)."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        if (
            isinstance(target, ast.Tuple)
            and isinstance(node.value, ast.Tuple)
            and len(target.elts) == len(node.value.elts)
        ):
            yield from zip(target.elts, node.value.elts, strict=True)
        else:
            yield target, node.value


def _is_self_attribute(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"


def _name_of(node: ast.expr | str) -> str | None:
    """``a.b.c`` for a chain of names; None for anything else."""
    if isinstance(node, str):
        return node
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name_of(node.value)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call):
        return _name_of(node.func)
    return None
