"""Excel layer: the only package that imports xlwings (functions, workbook I/O, refresh)."""
