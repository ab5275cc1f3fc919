"""`make demo`: the project's main job.

Until the calculator and the figure reproduction land, it only lists the installed commands.
"""

from __future__ import annotations

import os
import shutil
import sys


def main() -> int:
    commands = ["lora-gamma", "lora-sweep"]
    print("Installed commands:")
    for name in commands:
        # The venv's bin/ is not on PATH under `make`; look beside the interpreter first.
        where = shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)
        print(f"  {name:<12} {where or '(not on PATH)'}")
    print("\n" + __import__("theory").headline_report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
