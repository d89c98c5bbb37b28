"""``python -m ffu`` and the ``ffu`` console script: the ``ffu`` command line.

The commands are the Rust CLI's own, run in this process by :func:`ffu._native.main`: the
same arguments, output and exit status as the ``ffu`` binary (0 success; 1 no plan
possible or violations found; 2 bad input or usage). Nothing is parsed here.
"""

from __future__ import annotations

import signal
import sys

from ffu import _native


def main() -> int:
    """Runs the command line with this process's arguments; returns the exit status."""
    # Ctrl-C ends the command at once, as it ends the binary: Python's own handler would
    # only run once the Rust code returns.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    return _native.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
