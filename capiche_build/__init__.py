"""capiche-build: detection-as-code for cloud API hunting."""

__version__ = "0.1.0"
