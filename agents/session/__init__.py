"""The work session: everything a person does with a work, for every front end
(create, plan, run, step, regenerate, extend, edit and revert), the engines it opens,
one writer per work (leases) and what an edit makes stale."""
