"""The typeface of the badge artwork, the share card and the PDF certificate: DejaVu Sans 2.37, regular and bold.

Vendored rather than looked up on the system, because a fresh server has no fonts at all, and one typeface on
every machine keeps the artwork's line breaks the same everywhere. DejaVu Sans covers Polish and Ukrainian
(ąćęłńóśźż, ґєії) and may be redistributed and embedded under the Bitstream Vera / Arev licence in ``LICENSE``.
"""

from __future__ import annotations

from pathlib import Path

FAMILY = "DejaVu Sans"
REGULAR = Path(__file__).with_name("DejaVuSans.ttf")
BOLD = Path(__file__).with_name("DejaVuSans-Bold.ttf")
