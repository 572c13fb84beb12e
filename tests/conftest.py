"""Test setup: xlwings' server-side custom-function machinery when its licence key is set.

XLWINGS_ON_SERVER must be set before xlwings is first imported, so it is done here.
"""

import os
import sys
from pathlib import Path

HAVE_XLWINGS_KEY = bool(os.environ.get("XLWINGS_LICENSE_KEY"))
if HAVE_XLWINGS_KEY:
    os.environ["XLWINGS_ON_SERVER"] = "true"

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(Path(__file__).parent))
