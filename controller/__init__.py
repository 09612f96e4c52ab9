"""octi-tanium: keeps Tanium in sync with OpenCTI, declaratively."""

__version__ = "0.1.0"
