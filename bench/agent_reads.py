"""Characters an agent's model reads from one call, per runner and tool, besides picture links.

Each tool is called as tests/e2e/test_agent_delivery.py calls it, from each runner's session
ids (tests/daemon.py RUNNERS), once with the emulator's usual answer and once with a 4 MB
infotext, caption or list; what the model reads is counted as Result.model_reads counts it.
A last column shows what a model would read from a tool node's outputs: a workflow Agent
node left on delivery = auto (docs/dify-protocol.md, "Who reads the messages").
"""

from __future__ import annotations

from bench.harness import ROOT, Emulator, PluginProcess, machine, table
from tests.agent_calls import AGENTS, TOOLS, call, outside_links, swell
from tests.dify_files import DifyFiles

LABELS = {"agent_app": "Agent app", "agent_node": "Agent node", "new_agent": "New Agent"}


def reads(plugin: PluginProcess, tool: str, runner: str, big: bool, **settings: object) -> str:
    with Emulator("a1111") as server:
        if big:
            swell(server, tool)
        files = DifyFiles()
        try:
            result = call(plugin, server, tool, runner, files, **settings)
        finally:
            files.stop()
    if result.error:
        return f"error {result.error_type}"
    return f"{len(outside_links(result.model_reads(runner))):,}"


def main() -> None:
    rows = []
    with PluginProcess(ROOT) as plugin:
        for tool in TOOLS:
            for big in (False, True):
                cells = [reads(plugin, tool, runner, big) for runner in AGENTS]
                on_auto = reads(plugin, tool, "agent_node", big, delivery="auto")
                rows.append([f"`{tool}`", "4 MB" if big else "usual", *cells, on_auto])
    print(f"Characters the model reads per call, picture links aside ({machine()})")
    header = ["tool", "server's answer", *(LABELS[runner] for runner in AGENTS), "Agent node on auto"]
    print(table(header, rows))


if __name__ == "__main__":
    main()
