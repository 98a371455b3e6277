"""The package's shape, checked: subpackages by pipeline stage, each with a docstring; no
import cycle; no private name imported across modules; a stage imports only earlier stages;
the public API is importable from `bki_lab`. Fails when any of these comes back."""
import ast
from pathlib import Path

import pytest

import bki_lab

PKG = Path(bki_lab.__file__).parent
# the pipeline, in order: a subpackage may import only from those before it
STAGES = ["utils", "data", "attack", "victims", "bki", "pipeline", "defences", "viz",
          "reproduce", "cli"]


def modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = f
    return out


def imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every `from bki_lab... import name`, anywhere in the file (lazy
    imports inside functions and TYPE_CHECKING blocks included)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; import from bki_lab.<stage>.<module>")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bki_lab"):
            out += [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name, "") for a in node.names if a.name.startswith("bki_lab")]
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    g = {m: set() for m in mods}
    for m, f in mods.items():
        for mod, name in imports(f):
            target = f"{mod}.{name}" if f"{mod}.{name}" in mods else mod
            if target != m:
                g[m].add(target)
    return g


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))
    for v in g:
        if v not in index:
            visit(v)
    return found


def stage(module: str) -> str:
    return module.split(".")[1] if module != "bki_lab" else "bki_lab"


def test_cycles_finds_a_planted_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    assert cycles(graph()) == []


def test_no_private_name_is_imported_across_modules():
    bad = [(m, f"{mod}.{name}") for m, f in modules().items() for mod, name in imports(f)
           if name.startswith("_")]
    assert bad == []


def test_each_stage_imports_only_earlier_stages():
    bad = []
    for m, targets in graph().items():
        if m == "bki_lab":
            continue
        for t in targets:
            if t == "bki_lab":
                bad.append((m, t))            # never the package itself: it imports everything
            elif STAGES.index(stage(t)) > STAGES.index(stage(m)):
                bad.append((m, t))
    assert bad == []


def test_the_subpackages_are_the_stages_each_with_a_docstring():
    subpackages = sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").exists())
    assert subpackages == sorted(s for s in STAGES if s != "cli")
    for s in subpackages:
        doc = ast.get_docstring(ast.parse((PKG / s / "__init__.py").read_text()))
        assert doc and len(doc.split()) > 20, s
    flat = sorted(p.name for p in PKG.glob("*.py"))
    assert flat == ["__init__.py", "cli.py"]


def test_no_module_level_getattr_shim():
    for m, f in modules().items():
        tree = ast.parse(f.read_text())
        assert not any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__"
                       for n in tree.body), m


@pytest.mark.parametrize("name", bki_lab.__all__)
def test_the_public_api_is_importable_from_the_package(name):
    assert getattr(bki_lab, name) is not None
