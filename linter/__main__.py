import sys

from klint.cli import main

sys.exit(main())
