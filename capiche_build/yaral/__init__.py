"""YARA-L 2.0: a parser, a checker and an evaluator of our own (Google's checker needs an account)."""
