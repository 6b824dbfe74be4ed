"""Allow ``python -m heavytail_diffusion``."""

from .cli import main

raise SystemExit(main())
