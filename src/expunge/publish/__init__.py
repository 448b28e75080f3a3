"""Publish takes the decided partitions of a run;
it writes what each reader opens: datasets, review queue, petitions, drafts, summaries, report, delta."""
