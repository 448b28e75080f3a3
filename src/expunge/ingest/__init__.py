"""Ingest takes the court's exports (CSV, .csv.gz), a profile of their columns and what the delivery is;
it returns charges in Parquet partitions of whole cases (carried ones too), the quarantine and the guard's verdict."""
