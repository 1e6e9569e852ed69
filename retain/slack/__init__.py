"""Retain in Slack: the app, its listeners and the workers' handlers."""
