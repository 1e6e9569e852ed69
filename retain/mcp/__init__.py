"""Retain as an MCP server: the same scoped, cited answers and approval-gated drafts for MCP clients.

`server` builds the tools and resources; `calls` holds who is calling, their rate limit and how a
failure reads; `http` serves it over streamable HTTP behind per-person tokens or Slack identity auth.
"""
