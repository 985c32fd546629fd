"""The shared generation loop and what every stage uses around it: model calls
and their log, the repetition guard, length control, events, run control and the
engine of each stage."""
