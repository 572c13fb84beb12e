"""Build tools that run outside Excel: the template builder, the ribbon add-in and xlwings
Lite files, and ``alvh-xl check``. The runtime adapters (functions, conversion, Refresh, the
workbook seam) live in ``alvh_xl.xl``."""
