"""Stateful fakes of the trackers' HTTP APIs, checked against the official OpenAPI descriptions."""
