from reqhash_check.cli import entry

entry()
