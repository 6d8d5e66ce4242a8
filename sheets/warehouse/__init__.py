"""A SQL warehouse as the source (`[source] kind = "sql"`) and the way out of the sheet (`pulse export --duckdb`).

Today this is DuckDB only, read into the same in-memory snapshot as a workbook (docs/warehouse.md): the tables
are read with DuckDB, their cells typed and validated by the same rules as a sheet's, and the metrics run in
pandas. Nothing is pushed down to the database yet.
"""

from sheets.warehouse.export import export_duckdb
from sheets.warehouse.source import SqlWorkbook, open_sql_workbook

__all__ = ["SqlWorkbook", "export_duckdb", "open_sql_workbook"]
