import sys

from tramo.cli import main

sys.exit(main())
