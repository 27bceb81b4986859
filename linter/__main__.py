import sys

from klint.cli.main import main

sys.exit(main())
