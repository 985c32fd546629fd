"""Lengthening (Self-Lengthen): the extender, the draft's parts it works on, and a
written work lengthened section by section."""
