"""Release subcommands (lock, bundle, verify, unpack) registered on the `capiche` parser."""
