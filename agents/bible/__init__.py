"""The story bible's checks: facts and plot threads read from a section, the
continuity check, and the notes stored with each section."""
