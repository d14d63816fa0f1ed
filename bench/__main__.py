import sys
import traceback

from .cli import main

try:
    sys.exit(main())
except KeyboardInterrupt:
    sys.exit(130)
except Exception:  # the benchmark itself could not run: not an invariant failure
    traceback.print_exc()
    sys.exit(2)
