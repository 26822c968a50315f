import sys

from asyncshift.cli import main

sys.exit(main())
