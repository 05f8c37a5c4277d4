import sys

from popsell.cli.main import main

sys.exit(main())
