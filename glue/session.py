"""Who invoked the tool: a workflow node or an Agent app's LLM."""

from __future__ import annotations

from dify_plugin import Tool


def in_agent(tool: Tool) -> bool:
    """Whether an Agent app called: Dify hands every message of such a call (JSON, variables,
    stream variables) to the LLM as its observation. Agent apps send a message id; workflow
    tool nodes send none (docs/dify-protocol.md)."""
    return bool(getattr(tool.session, "message_id", None))
