"""Ops takes one set of run settings (``RunSettings``) and runs the night with them;
it returns the committed run folder (or holds a snapshot the shrink guard stops), and keeps the ledger, the
state store the next delivery builds on, the inbox, the run log and retention."""
