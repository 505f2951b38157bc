"""``python -m analysis`` runs the ``survey-estimate`` command."""

import sys

from analysis.cli import main

sys.exit(main())
