"""Ops takes one set of run settings (``RunSettings``) and runs the night with them;
it returns the committed run folder, and keeps the ledger, the inbox, the run log and retention."""
