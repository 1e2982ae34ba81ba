"""The layout's rules, read off the source: no import cycles, indexer knows nothing of the
service, only entry points read the environment, no module over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("indexer", "service", "eval")
# The entry points, the only modules that may read settings from the environment.
ENTRY_POINTS = {
    "indexer.__main__",
    "service.__main__",
    "service.settings",
    "service.api.app",
    "eval.__main__",
    "eval.runner",
    "eval.bench.cli",
}

# Not readers: pymilvus reads MILVUS_URI when first imported and refuses a Milvus Lite path
# there, so indexer.milvus_store imports it with the variable blanked for that moment.
ENV_GUARDS = {("indexer.milvus_store", "os.environ")}


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules this module imports (lazy imports too; TYPE_CHECKING ones not)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from pkg import mod` imports the module; `from pkg import name`, the package.
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m in known and m != name}


def graph() -> nx.DiGraph:
    mods = modules()
    g = nx.DiGraph()
    g.add_nodes_from(mods)
    for name, path in mods.items():
        g.add_edges_from((name, target) for target in imports(name, path, set(mods)))
    return g


def test_no_import_cycles():
    assert list(nx.simple_cycles(graph())) == []


@pytest.mark.parametrize(
    ("layer", "forbidden"), [("indexer", ("service", "eval")), ("service", ("eval",))]
)
def test_layers_import_downwards_only(layer: str, forbidden: tuple[str, ...]):
    g = graph()
    wrong = [
        (a, b) for a, b in g.edges if a.split(".")[0] == layer and b.split(".")[0] in forbidden
    ]
    assert wrong == []


def test_only_entry_points_read_the_environment():
    readers = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        if name in ENTRY_POINTS:
            continue
        for needle in ("os.environ", "getenv(", "get_settings()", "Settings()"):
            if needle in text and (name, needle) not in ENV_GUARDS:
                readers.append((name, needle))
    assert readers == []


def test_no_module_over_400_lines():
    paths = [*modules().values(), *sorted((ROOT / "tests").glob("*.py"))]
    long = {
        str(p.relative_to(ROOT)): n for p in paths if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}
