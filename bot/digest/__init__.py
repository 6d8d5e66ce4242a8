"""The weekly digest: content, rendering, chart, delivery and the exactly-once ledger."""
