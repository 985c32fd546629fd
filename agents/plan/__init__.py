"""Planning: a work's outline (the planner), a part's or a chapter's sections when
the writing reaches it, and repairing a plan the model got wrong."""
