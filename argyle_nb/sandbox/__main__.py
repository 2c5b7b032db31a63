"""``python -m argyle_nb.sandbox [flags]``: the same as ``argyle-nb sandbox serve [flags]``."""

from __future__ import annotations

import sys

from argyle_nb.sandbox.command import main

if __name__ == "__main__":
    sys.exit(main())
