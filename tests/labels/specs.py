"""The label sheets as their manufacturers specify them, to check the printed PDFs against."""

# The manufacturers' specifications (mm): columns, rows, width, height, left, top, pitch x, y.
SPECS = {
    "avery-l7160": (3, 7, 63.5, 38.1, 7.25, 15.15, 66.04, 38.1),
    "avery-l7163": (2, 7, 99.1, 38.1, 4.65, 15.15, 101.6, 38.1),
    "avery-l7651": (5, 13, 38.1, 21.2, 4.75, 10.7, 40.6, 21.2),
    "avery-l7159": (3, 8, 63.5, 33.9, 7.25, 12.9, 66.0, 33.9),
    "brother-ql-62": (1, 1, 62, 29, 0, 0, 62, 29),
    "dymo-54x25": (1, 1, 54, 25, 0, 0, 54, 25),
}
