"""The import rule (docs/architecture.md), checked on the package's source with ast.

Stages, lowest first: text -> ingest -> index -> search -> ops -> serve -> the CLI at the top.
A module imports from its own stage and the stages below, never above; errors, model and config
(and the package's __version__) import no stage, so every stage may import them; no cycles, counting
imports inside functions too; no module imports another module's private (_underscore) names.
"""

import ast
from pathlib import Path

import faqbot

PACKAGE = Path(faqbot.__file__).resolve().parent
STAGES = ("text", "ingest", "index", "search", "ops", "serve")
BASE = frozenset({"faqbot", "faqbot.errors", "faqbot.model", "faqbot.config"})
# faqbot.create_app() is a shortcut for apps that embed faqbot; it imports the web app when called.
ALLOWED = frozenset({("faqbot", "faqbot.serve.web")})


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, str | None]]:
    """(imported module, imported name or None) for every import in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.split(".")[0] == "faqbot"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "faqbot":
                continue
            for alias in node.names:
                if f"{source}.{alias.name}" in known:
                    found.append((f"{source}.{alias.name}", None))  # a module: `from . import kernel`
                else:
                    found.append((source, alias.name))
    return found


def graph(sources: dict[str, Path]) -> dict[str, set[str]]:
    known = set(sources)
    return {name: {target for target, _ in imports(name, path, known) if target != name}
            for name, path in sources.items()}


def stage(name: str) -> int | None:
    """0.. for the stages, None for the base modules, len(STAGES) for the top (CLI, chat, terminal)."""
    if name in BASE:
        return None
    parts = name.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[1] in STAGES else len(STAGES)


def violations(edges: dict[str, set[str]]) -> list[str]:
    """Every import against the direction of the stages."""
    found = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            if (source, target) in ALLOWED:
                continue
            s, t = stage(source), stage(target)
            if t is None:
                continue  # anything may import the base modules
            if s is None or t > s:
                found.append(f"{source} -> {target}")
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if (v, w) in ALLOWED:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def private_imports(sources: dict[str, Path]) -> list[str]:
    known = set(sources)
    return [f"{name} imports {target}.{item}" for name, path in sources.items()
            for target, item in imports(name, path, known)
            if item and item.startswith("_") and not item.startswith("__") and target != name]


def test_every_module_belongs_to_a_stage_or_the_top():
    top = {name for name in modules() if stage(name) == len(STAGES)}
    assert top == {"faqbot.cli", "faqbot.chat", "faqbot.terminal", "faqbot.__main__"}


def test_imports_run_one_way():
    assert violations(graph(modules())) == []


def test_no_import_cycles():
    assert cycles(graph(modules())) == []


def test_no_module_imports_another_modules_private_names():
    assert private_imports(modules()) == []


def test_the_checks_catch_a_planted_violation():
    edges = graph(modules())
    edges["faqbot.index.store"] = edges["faqbot.index.store"] | {"faqbot.search.lexical"}
    assert "faqbot.index.store -> faqbot.search.lexical" in violations(edges)
    assert any("faqbot.index.store" in c and "faqbot.search.lexical" in c for c in cycles(edges))
    edges["faqbot.config"] = edges["faqbot.config"] | {"faqbot.index.embed"}
    assert "faqbot.config -> faqbot.index.embed" in violations(edges)


def test_the_web_app_does_not_import_the_readers_or_the_crawler():
    """A server worker answers questions: the builder runs in the job process (python -m faqbot.serve.jobs)."""
    import subprocess
    import sys

    code = "import sys, faqbot.serve.web; print(' '.join(m for m in sys.modules if m.startswith('faqbot.')))"
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert "faqbot.serve.web" in loaded
    assert [m for m in loaded if m.startswith("faqbot.ingest") or m == "faqbot.index.incremental"] == []


MAX_LINES = 500


def test_no_module_is_over_500_lines():
    """Small modules, one job each: a module that grows past this is split by job."""
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
