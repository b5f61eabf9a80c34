"""The house's layer rules, read from the app package's own imports.

The rules, in one place (README "Layout" says the same in words):
- no import circles anywhere in `app`, lazy imports inside functions included;
- `app.capillary` (the HTTP client) imports nothing else of the app;
- `app.lookup` may import `app.capillary` and `app.audit`, never the reverse; nothing else
  of the app imports the lookup feature but the factory that registers it;
- inside `app.lookup`, arrows point down: the web layer at the top of the package (views,
  forms, detection, the audited use case) -> `page` (view models) -> `fetching` -> `budget`;
  no sub-package imports the web layer; `fetching` never imports the page, forms or wtforms;
  the page reads what was fetched (`fetching.outcome`, `fetching.scope`) and never fetches;
- a blueprint's views import services, never another package's models.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in APP.rglob("*.py")}


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import the module can run, at the top or inside a function (not typing-only)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _type_checking_only(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(module: str) -> set[str]:
    """The modules of `app` that module imports (a name imported from a package counts as
    its submodule when there is one, else as the package)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in MODULES)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            if candidate in MODULES:
                found.add(candidate)
            elif base in MODULES:
                found.add(base)
    found.discard(module)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_walk_sees_the_known_edges():
    # Guards the reader itself: if it stopped seeing imports, every rule would pass vacuously.
    assert "app.capillary.transport" in GRAPH["app.capillary.client"]
    assert "app.lookup.audited" in GRAPH["app.lookup.views"]
    assert "app.lookup.fetching.service" in GRAPH["app.lookup.audited"]
    assert "app.lookup.fetching.scope" in GRAPH["app.lookup.fetching.service"]


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circles():
    assert circles(GRAPH) == []


def test_the_capillary_client_imports_nothing_else_of_the_app():
    leaks = {
        (module, target)
        for module, targets in GRAPH.items()
        if in_package(module, "app.capillary")
        for target in targets
        if not in_package(target, "app.capillary")
    }
    assert leaks == set()


@pytest.mark.parametrize("lower", ["app.capillary", "app.audit"])
def test_lookup_sits_above_capillary_and_audit(lower):
    upward = {
        (module, target)
        for module, targets in GRAPH.items()
        if in_package(module, lower)
        for target in targets
        if in_package(target, "app.lookup")
    }
    assert upward == set()


def test_views_never_import_another_packages_models():
    crossings = {
        (module, target)
        for module, targets in GRAPH.items()
        if module.endswith(".views")
        for target in targets
        if target.endswith(".models") and target.rpartition(".")[0] != module.rpartition(".")[0]
    }
    assert crossings == set()


LOOKUP = "app.lookup"
# The lookup feature's sub-packages, top to bottom; each may import those below it only.
LOOKUP_LAYERS = ("app.lookup.page", "app.lookup.fetching", "app.lookup.budget")
# What the page may read of the fetching package: the types of what was fetched.
PAGE_READS = {"app.lookup.fetching.outcome", "app.lookup.fetching.scope"}


def layer_of(module: str) -> str:
    """The lookup sub-package a module of app.lookup is in, or LOOKUP for the web layer."""
    return next((layer for layer in LOOKUP_LAYERS if in_package(module, layer)), LOOKUP)


def lookup_edges() -> set[tuple[str, str]]:
    return {
        (module, target)
        for module, targets in GRAPH.items()
        if in_package(module, LOOKUP)
        for target in targets
        if in_package(target, LOOKUP) and target != LOOKUP
    }


def third_party_imports(module: str) -> set[str]:
    """The top-level names of what a module imports from outside `app`."""
    path = MODULES[module]
    found = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        found.update(name.partition(".")[0] for name in names if not name.startswith("app"))
    return found


def test_the_lookup_package_has_its_doors():
    # Guards the layer rules below: they name these packages, so they must exist and be used.
    for layer in LOOKUP_LAYERS:
        assert layer in MODULES
    assert ("app.lookup.views", "app.lookup.page.model") in lookup_edges()
    assert ("app.lookup.fetching.service", "app.lookup.budget.counts") in lookup_edges()
    assert "wtforms" in third_party_imports("app.lookup.forms")


def test_no_lookup_sub_package_imports_the_web_layer_or_one_above_it():
    order = [*LOOKUP_LAYERS[::-1], LOOKUP]  # bottom first
    upward = {
        (module, target)
        for module, target in lookup_edges()
        if order.index(layer_of(target)) > order.index(layer_of(module))
    }
    assert upward == set()


def test_fetching_never_imports_the_page_the_forms_or_wtforms():
    fetching = [module for module in MODULES if in_package(module, "app.lookup.fetching")]
    assert fetching
    for module in fetching:
        assert not {"wtforms", "flask_wtf"} & third_party_imports(module), module
        assert not any(
            in_package(target, "app.lookup.page") or target == "app.lookup.forms"
            for target in GRAPH[module]
        ), module


def reachable(module: str) -> set[str]:
    """Every module of `app` that importing module imports, directly or not."""
    seen, todo = set(), [module]
    while todo:
        for target in GRAPH[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


@pytest.mark.parametrize("use_case", ["app.lookup.audited", "app.lookup.attempts"])
def test_the_fetch_path_never_reaches_the_forms(use_case):
    # The audited lookup is how every view fetches; forms belong to the views that call it.
    path = {use_case, *reachable(use_case)}
    assert "app.lookup.fetching.service" in path
    assert "app.lookup.forms" not in path
    lookup_path = [module for module in path if in_package(module, LOOKUP)]
    assert not any({"wtforms", "flask_wtf"} & third_party_imports(m) for m in lookup_path)


def test_the_page_never_fetches():
    page = [module for module in MODULES if in_package(module, "app.lookup.page")]
    assert page
    for module in page:
        assert not {"requests", "urllib3", "redis"} & third_party_imports(module), module
        reaches = {
            target
            for target in GRAPH[module]
            if in_package(target, "app.lookup.fetching") or in_package(target, "app.lookup.budget")
        }
        assert reaches <= PAGE_READS, module
        assert not any(
            in_package(target, "app.capillary") and target != "app.capillary"
            for target in GRAPH[module]
        ), module


def test_only_the_factory_imports_the_lookup_feature():
    outside = {
        (module, target)
        for module, targets in GRAPH.items()
        if not in_package(module, LOOKUP) and module != "app"
        for target in targets
        if in_package(target, LOOKUP)
    }
    assert outside == set()


def calls_named(names: set[str]) -> set[tuple[str, str]]:
    """(module, name) for every call of an attribute with one of these names in `app`."""
    found = set()
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in names
            ):
                found.add((module, node.func.attr))
    return found


def test_every_member_lookup_goes_through_the_audited_lookup():
    # The service's fetch runs a page's upstream calls: only the audited lookup may call it,
    # so no view can show a member without writing the record first.
    assert {module for module, _ in calls_named({"fetch"})} == {"app.lookup.audited"}
    # The client's calls: the service's planned calls, the readiness probe (customer
    # id 1, never a member's page), and `flask capillary check`, which shows no figure and
    # writes its own audit record that it ran.
    callers = {module for module, _ in calls_named({"get_balance", "get_schedule"})}
    assert callers == {"app.lookup.fetching.plan", "app.main.readiness", "app.upstream_check"}
