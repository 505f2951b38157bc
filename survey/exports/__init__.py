"""Exports for statisticians: microdata (CSV, XLSX, SPSS, Stata) and estimates tables."""
