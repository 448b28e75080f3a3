"""Ingest takes the court's export files (CSV, .csv.gz) and a profile of their columns;
it returns typed charges in Parquet partitions of whole cases, the quarantine, and who is who."""
