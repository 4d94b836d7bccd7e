import sys

from keel.entry import main

sys.exit(main())
