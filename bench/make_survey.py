"""Writes a realistic graduate survey .xlsx (see qinghe/talents/surveygen.py).

.venv/bin/python bench/make_survey.py --rows 100000 --out var/bench/survey-100000.xlsx
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qinghe.talents.surveygen import generate, main  # noqa: E402

__all__ = ["generate", "main"]

if __name__ == "__main__":
    sys.exit(main())
