"""YARA-L 2.0: a parser, a checker and an evaluator of our own (Google's checker needs an account).

parse_yaral(text) -> RuleFile                  syntax tree; raises YaralSyntaxError
check_yaral(text, origin) -> list[Diagnostic]  syntax and semantic problems
evaluate(rule_text, records) -> list[Detection]  run a rule on CloudTrail records
"""

from capiche_build.yaral.checker import check_yaral
from capiche_build.yaral.evaluator import Detection, UnsupportedRuleError, evaluate
from capiche_build.yaral.lexer import YaralSyntaxError
from capiche_build.yaral.parser import parse_lenient, parse_yaral

__all__ = [
    "Detection",
    "UnsupportedRuleError",
    "YaralSyntaxError",
    "check_yaral",
    "evaluate",
    "parse_lenient",
    "parse_yaral",
]
