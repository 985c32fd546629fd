"""Agents: the work session every front end calls, and one package per stage of the
pipeline, each layer using only those below it (import-linter holds it):

- ``batch``: many works from one file, each item through the session;
- ``session``: everything a person does with a work;
- ``write`` (AgentWrite and draft: write one section) and ``recurrent`` (one step);
- ``bible``: facts, plot threads and the continuity check read from a section;
- ``plan`` (a work, a part, a chapter), ``lengthen`` (the extender), ``evaluate``
  (S_l, the quality judge, languages);
- ``generation``: the one generation loop, calls, events, run control;
- ``quality``: the measures of a text the gates use.

Agents read and write through ``storage`` and call models through ``engines``;
they report progress as events (``agents.generation.events``) and import no front end.
"""
