import sys

from tinygen.cli import main

sys.exit(main())
