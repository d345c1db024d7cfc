from reqhash_check.cli import main

raise SystemExit(main())
