"""Normalize takes each charge's code, NCIC modifier, statute and hand-keyed description;
it returns the offense the law's reference reads in them, how it was matched, and the report."""
