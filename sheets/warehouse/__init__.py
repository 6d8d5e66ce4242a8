"""A SQL warehouse as the source (`[source] kind = "sql"`) and the way out of the sheet (`pulse export --duckdb`).

Today this is a DuckDB file or a PostgreSQL database, read into the same in-memory snapshot as a workbook
(docs/warehouse.md): the tables are read as Arrow, their cells typed and validated by the same rules as a sheet's,
and the metrics run in pandas.
"""

from sheets.warehouse.export import export_duckdb
from sheets.warehouse.source import PgWorkbook, SqlWorkbook, open_sql_workbook

__all__ = ["PgWorkbook", "SqlWorkbook", "export_duckdb", "open_sql_workbook"]
