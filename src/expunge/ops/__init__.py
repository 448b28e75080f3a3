"""Operations take one set of run settings;
they run ingest -> decide -> publish, commit the run folder, and keep the ledger, inbox and run log."""
