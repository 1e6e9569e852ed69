"""Requests to do something: draft an e-mail or Slack message, set up a meeting, remind the CSM.

`parse` reads a message as a request (or not), `route` finds its account, `draft.run` builds the
pending draft from CRM facts. Approval runs it once (`agents.approve`).
"""

from agents.requests.parse import Request, parse
from agents.requests.route import route

__all__ = ["Request", "parse", "route"]
