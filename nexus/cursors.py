"""A cursor's direction (nexus.pagination): the rows strictly older than its position (``NEXT``) or newer
(``PREVIOUS``). Apart from the pagination class so that selectors, below the views, need nothing of DRF."""

NEXT, PREVIOUS = "n", "p"
