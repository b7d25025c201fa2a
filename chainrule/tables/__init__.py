"""Tables: reading CSV, Parquet and DataFrames, encoding columns as inputs, and the table model
with its pipeline (TabularModel)."""

__all__ = []
