"""Rule-pipeline subcommands (build, check, diff, ...) registered on the `capiche` parser."""
