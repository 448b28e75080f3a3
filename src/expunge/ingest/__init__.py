"""Ingest takes the court's export files (CSV, .csv.gz) and a profile of their columns;
it returns typed charges in Parquet partitions of whole cases, the quarantine, and who is who; and what
the delivery is (snapshot or increment, its scope, the shrink guard's verdict) with the charges carried over."""
