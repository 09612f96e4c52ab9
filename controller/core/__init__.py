"""The pure core: desired state, diff, plan value, guards. Values in, values out.

Nothing here performs I/O, reads the clock or the environment, or imports a client, a terminal
or a file-format library; `tests/test_layers.py` enforces it.
"""
