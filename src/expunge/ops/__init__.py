"""Ops takes one set of run settings (``RunSettings``) and runs the night with them;
it returns the committed run folder (or holds a snapshot), keeping ledger, state, inbox, run log and retention."""
