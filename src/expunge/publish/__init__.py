"""Publish takes the decided partitions of a run;
it returns what each reader opens: datasets, review queue, petitions, drafts, summaries, report, delta."""
