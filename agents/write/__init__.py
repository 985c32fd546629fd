"""Writing one section (AgentWrite and draft modes): the section writer, its prompt
layouts, and the runner that writes a work's sections in order."""
