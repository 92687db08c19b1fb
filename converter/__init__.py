"""xl2segur: Excel workbooks of Ségur numérique funding requests → ASP deposit JSON files."""

__version__ = "0.1.0"
