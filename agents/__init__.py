"""Agents: planner, writers, extender, length control, and the resumable runner.

Agents read and write through ``storage`` and call models through ``engines``;
they report progress as events (``agents.generation.events``) and import no front end.
"""
