# `python -m reqhash_check` exits the ordinary way (profilers and coverage write their data
# at exit); the installed command skips the teardown, see `cli.entry`.
from reqhash_check.cli import flushed, main

raise SystemExit(flushed(main(verdicts=True)))
