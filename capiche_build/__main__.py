import sys

from capiche_build.cli import main

sys.exit(main())
