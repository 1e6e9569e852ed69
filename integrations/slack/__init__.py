"""Retain in Slack: a Bolt app (Socket Mode or HTTP), a durable inbox and Block Kit replies."""
