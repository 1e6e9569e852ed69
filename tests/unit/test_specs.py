"""The agent catalogue is the one list of agents: every part reads it, none keeps its own."""

import ast
import importlib
from pathlib import Path

from agents import progress, specs
from agents.graph import RUNS, build_graph
from agents.router import RouteOut, system_prompt
from retain.slack.agent import loading_messages

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("agents", "retain", "tools", "integrations")
ONE_TABLE = ("agents/graph.py", "RUNS")  # the graph's intent -> code table, checked against the catalogue below


def _literal_intent_lists(source: str, name: str) -> list[str]:
    """Collections written in a module whose string elements are all intent names (two or more)."""
    tree = ast.parse(source)
    allowed = set()
    for node in ast.walk(tree):
        targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets if isinstance(node, ast.Assign) \
            else []
        if any(isinstance(t, ast.Name) and (name, t.id) == ONE_TABLE for t in targets):
            allowed.add(id(node.value))
    out = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            elts = node.elts
        elif isinstance(node, ast.Dict):
            elts = [k for k in node.keys if k is not None]
        else:
            continue
        words = [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        named = {w for w in words if w in specs.INTENTS}
        if len(named) >= 2 and len(named) == len(set(words)):
            out.append(f"{name}:{node.lineno} {sorted(named)}")
    return out


def test_no_module_keeps_its_own_list_of_intents():
    found = [hit for pkg in SCANNED for f in sorted((ROOT / pkg).rglob("*.py")) if f.name != "specs.py"
             for hit in _literal_intent_lists(f.read_text(), str(f.relative_to(ROOT)))]
    assert found == [], "intent lists outside agents/specs.py (read the catalogue instead):\n" + "\n".join(found)


def test_the_scan_finds_a_list_written_out():
    probe = ('TITLES = {"health": "Health", "renewal": "Renewal"}\nX = ("help", "remember")\n'
             'OK = {"overview": 1, "health": 2, "renewal": 3}\nRUNS = {"needs": 1, "tuning": 2}\n')
    assert _literal_intent_lists(probe, "agents/probe.py") == ["agents/probe.py:1 ['health', 'renewal']",
                                                               "agents/probe.py:2 ['help', 'remember']",
                                                               "agents/probe.py:4 ['needs', 'tuning']"]
    assert _literal_intent_lists(probe, "agents/graph.py")[-1:] == ["agents/graph.py:2 ['help', 'remember']"]


def test_the_catalogue_imports_no_agent_module():
    tree = ast.parse((ROOT / "agents" / "specs.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
        {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported <= {"__future__", "dataclasses"}


def test_every_intent_is_a_graph_node_with_code():
    assert set(RUNS) == set(specs.INTENTS)
    nodes = set(build_graph().get_graph().nodes)
    assert nodes == {"__start__", "__end__", "start", "route", "compose", "approve", *specs.INTENTS}


def test_a_per_account_agent_is_its_spec_and_module_with_no_line_in_the_graph():
    for s in specs.CATALOGUE:
        if s.per_account:
            assert RUNS[s.intent] is importlib.import_module(f"agents.{s.module or s.intent}").run
    graph_src = ast.parse((ROOT / "agents" / "graph.py").read_text())
    imported = {a.name for n in ast.walk(graph_src) if isinstance(n, ast.ImportFrom) for a in n.names} | \
        {n.module for n in ast.walk(graph_src) if isinstance(n, ast.ImportFrom)}
    agents = set(specs.PER_ACCOUNT) - {"health"}  # the graph reads health's help text, not its run
    assert not imported & (agents | {f"agents.{i}" for i in agents}), \
        "graph.py imports a per-account agent by name: the catalogue says which module to run"


def test_router_slack_and_prompt_read_the_catalogue():
    picked = RouteOut.model_fields["intents"].annotation.__args__[0].__args__
    assert set(picked) == set(specs.MODEL_INTENTS)
    prompt = system_prompt()
    assert "{intents}" not in prompt
    for s in specs.CATALOGUE:
        assert (f"{s.intent} (" in prompt) == bool(s.menu), s.intent
        assert s.menu in prompt
    route = {"intents": list(specs.INTENTS), "accounts": [{"account_id": 1, "name": "Acme"}]}
    shown = loading_messages(route)
    every = [s.doing.format(a="Acme") for s in specs.CATALOGUE if s.doing]
    assert shown == every[:6]


def test_specs_are_complete():
    for s in specs.CATALOGUE:
        assert s.title, s.intent
        if s.per_account:
            assert "{a}" in s.doing and "{a}" in s.reading and s.needs_account, s.intent
        if s.prompt:
            assert (ROOT / "prompts" / f"{s.prompt}.md").is_file(), s.intent


def test_progress_speaks_in_steps_and_slack_knows_no_graph_nodes():
    """A watcher is told the planned steps (catalogue texts) and which agents finished; Slack never reads
    the graph, its checkpoint or a node's name."""
    route = {"intents": ["health", "renewal"], "accounts": [{"account_id": 1, "name": "Acme"}]}
    planned = progress.event("route", {"route": route})
    assert isinstance(planned, progress.Planned)
    assert planned.titles == [specs.SPECS[i].doing.format(a="Acme") for i in ("health", "renewal")]
    assert [t.agent for t in planned.tasks] == ["health", "renewal"] and len({t.id for t in planned.tasks}) == 2
    done = progress.event("health", {"findings": [{"agent": "health", "facts": [], "sources": []}], "trace": []})
    assert isinstance(done, progress.Done) and done.agents == {"health"}
    assert progress.event("start", {"findings": None, "trace": None}) is None  # a turn's reset means nothing
    for path in (ROOT / "retain" / "slack").glob("*.py"):
        tree = ast.parse(path.read_text())
        used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not used & {"graph", "get_state", "stream"}, path.name
