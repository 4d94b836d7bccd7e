import sys

from keel.launch import main

sys.exit(main())
