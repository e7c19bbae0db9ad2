"""Imported first by every benchmark script: fixes ``sys.path`` for ``python bench/<name>.py``.

Run as a file, a script's folder is ``sys.path[0]``, and ``bench/copy.py``
(the name the copy benchmark is known by) would then shadow the standard
library's ``copy`` for everything imported afterwards. Drop the folder and
put the project root first instead, so ``cos_provider`` imports from here.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))
# Last, behind the standard library: a child started with multiprocessing's
# "spawn" re-runs the script with this sys.path and must find this module again.
sys.path.append(str(HERE))
