"""Retain's MCP server (in process, the real tools) when its database cannot be reached: one line, no traceback."""

import anyio
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from mcp.server.mcpserver.exceptions import ToolError

from agents.assistant import Assistant
from core.settings import load_settings
from retain.mcp.calls import Caller
from retain.mcp.server import build
from tools.services import Services


def test_a_tool_call_while_the_database_is_unreachable_says_so_in_one_line(tmp_path):
    gone = "postgresql+psycopg://retain:s3cret@127.0.0.1:1/retain"  # nothing listens there: refused
    rt = Services(load_settings(data_dir=str(tmp_path), database_url=gone, llm={"backend": "none"}))
    app = build(Assistant(rt, checkpointer=InMemorySaver(), use_memory=False),
                Caller(who="dana.reyes@retain.example", key="stdio:dana", via="stdio"))
    with pytest.raises(ToolError) as err:
        anyio.run(app.call_tool, "portfolio", {"limit": 1})
    text = str(err.value)
    assert text == "portfolio: Retain's database is unreachable right now; nothing was changed. Try again shortly."
