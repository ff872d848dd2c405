"""Getting a gateway's telemetry into a database: :mod:`.collector` (``obsa telemetry
collect``)."""
