"""Named text rule sets from a YAML file, and the post-processing step that applies them.

The file (``SCRIBE_TEXT_RULES_FILE``) looks like this::

    rule_sets:
      house-style:
        - replace: {find: "\\\\bgonna\\\\b", with: "going to", regex: true}
        - replace: {find: "acme corp", with: "ACME Corp.", whole_word: true, ignore_case: true}
        - remove_fillers: {words: [um, uh, erm]}    # default list when `words` is left out
        - mask_profanity: {words: [darn], mask: "*"}  # default list and "*" when left out
      clean:
        - remove_fillers                            # a rule without settings

A request names the sets it wants (``text_rules``); they apply in the order named. Any mistake in
the file fails at load time (startup) with a ``TextRulesError`` naming the file and the line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from scribe.domain.errors import InvalidRequest
from scribe.domain.options import TranscriptionOptions
from scribe.domain.text_rules import (
    MaskProfanity,
    RemoveFillers,
    Replace,
    Rule,
    RuleSet,
    apply_rules,
)
from scribe.domain.transcript import Transcript

_EXAMPLE = (
    "rule_sets:\n  my-set:\n    - replace: {find: 'acme corp', with: 'ACME Corp.'}\n"
    "    - remove_fillers\n    - mask_profanity"
)


class TextRulesError(ValueError):
    """The text rules file cannot be used; the message names the file and the line at fault."""


class _Reader:
    """Turns YAML nodes into rules, keeping the node's line for error messages."""

    def __init__(self, path: Path, loader: yaml.SafeLoader) -> None:
        self.path = path
        self.loader = loader

    def fail(self, node: yaml.Node | None, message: str) -> TextRulesError:
        where = (
            f"{self.path}, line {node.start_mark.line + 1}" if node is not None else str(self.path)
        )
        return TextRulesError(f"Text rules file {where}: {message}")

    def value(self, node: yaml.Node) -> Any:
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping of `name: value` entries.")
        entries = []
        for key, value in node.value:
            name = self.value(key)
            if not isinstance(name, str):
                raise self.fail(key, f"keys in {what} must be text, got {name!r}.")
            entries.append((name, key, value))
        return entries

    def string(self, node: yaml.Node, field: str, *, allow_empty: bool = False) -> str:
        value = self.value(node)
        if not isinstance(value, str) or not (allow_empty or value):
            raise self.fail(node, f"`{field}` must be non-empty text, got {value!r}.")
        return value

    def flag(self, node: yaml.Node, field: str) -> bool:
        value = self.value(node)
        if not isinstance(value, bool):
            raise self.fail(node, f"`{field}` must be true or false, got {value!r}.")
        return value

    def words(self, node: yaml.Node, field: str) -> tuple[str, ...]:
        value = self.value(node)
        if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
            raise self.fail(node, f"`{field}` must be a list of words, got {value!r}.")
        return tuple(value)

    def fields(
        self, at: yaml.Node, node: yaml.Node, kind: str, allowed: set[str], required: set[str]
    ) -> dict[str, yaml.Node]:
        """The settings of one rule; ``at`` is the rule's kind, where whole-rule errors point."""
        if isinstance(node, yaml.ScalarNode) and self.value(node) is None:
            found: dict[str, yaml.Node] = {}
        else:
            found = {}
            for name, key, value in self.mapping(node, f"`{kind}`"):
                found[name] = value
                if name not in allowed:
                    raise self.fail(
                        key,
                        f"`{kind}` has no setting `{name}`; "
                        f"it takes {', '.join(f'`{a}`' for a in sorted(allowed))}.",
                    )
        missing = required - found.keys()
        if missing:
            raise self.fail(at, f"`{kind}` needs {', '.join(f'`{m}`' for m in sorted(missing))}.")
        return found

    def replace_rule(self, at: yaml.Node, node: yaml.Node) -> Rule:
        allowed = {"find", "with", "regex", "whole_word", "ignore_case"}
        f = self.fields(at, node, "replace", allowed, {"find", "with"})
        try:
            return Replace(
                find=self.string(f["find"], "find"),
                with_=self.string(f["with"], "with", allow_empty=True),
                regex=self.flag(f["regex"], "regex") if "regex" in f else False,
                whole_word=self.flag(f["whole_word"], "whole_word") if "whole_word" in f else False,
                ignore_case=(
                    self.flag(f["ignore_case"], "ignore_case") if "ignore_case" in f else False
                ),
            )
        except ValueError as exc:
            if isinstance(exc, TextRulesError):
                raise
            raise self.fail(at, f"`replace`: {exc}.") from exc

    def fillers_rule(self, at: yaml.Node, node: yaml.Node) -> Rule:
        f = self.fields(at, node, "remove_fillers", {"words"}, set())
        if "words" not in f:
            return RemoveFillers()
        return RemoveFillers(self.words(f["words"], "words"))

    def profanity_rule(self, at: yaml.Node, node: yaml.Node) -> Rule:
        f = self.fields(at, node, "mask_profanity", {"words", "mask"}, set())
        words = self.words(f["words"], "words") if "words" in f else MaskProfanity().words
        mask = self.string(f["mask"], "mask") if "mask" in f else "*"
        try:
            return MaskProfanity(words, mask)
        except ValueError as exc:
            raise self.fail(at, f"`mask_profanity`: {exc}.") from exc

    def rule(self, node: yaml.Node) -> Rule:
        kinds: dict[str, Callable[[yaml.Node, yaml.Node], Rule]] = {
            "replace": self.replace_rule,
            "remove_fillers": self.fillers_rule,
            "mask_profanity": self.profanity_rule,
        }
        known = ", ".join(f"`{k}`" for k in kinds)
        kind_node: yaml.Node
        settings: yaml.Node
        if isinstance(node, yaml.ScalarNode):  # a bare `- remove_fillers`
            kind_node, settings = node, yaml.ScalarNode("tag:yaml.org,2002:null", "")
        else:
            entries = self.mapping(node, "a rule")
            if len(entries) != 1:
                raise self.fail(node, f"a rule must have exactly one kind ({known}).")
            _, kind_node, settings = entries[0]
        kind = self.value(kind_node)
        if kind not in kinds:
            raise self.fail(kind_node, f"unknown rule kind {kind!r}; the kinds are {known}.")
        return kinds[kind](kind_node, settings)

    def rule_sets(self, root: yaml.Node | None) -> dict[str, RuleSet]:
        if root is None:
            raise self.fail(None, f"the file is empty. It should look like:\n{_EXAMPLE}")
        top = self.mapping(root, "the file")
        for name, key, _ in top:
            if name != "rule_sets":
                raise self.fail(key, f"unknown top-level key `{name}`; expected `rule_sets`.")
        if not top:
            raise self.fail(root, f"`rule_sets` is missing. The file should look like:\n{_EXAMPLE}")
        sets: dict[str, RuleSet] = {}
        for name, key, value in self.mapping(top[0][2], "`rule_sets`"):
            if not name.strip():
                raise self.fail(key, "a rule set needs a name.")
            if name in sets:
                raise self.fail(key, f"rule set `{name}` is defined twice; rename one of them.")
            if not isinstance(value, yaml.SequenceNode):
                raise self.fail(value, f"rule set `{name}` must be a list of rules (`- ...`).")
            sets[name] = RuleSet(name, tuple(self.rule(item) for item in value.value))
        return sets


def load_text_rules(path: str | Path) -> dict[str, RuleSet]:
    """Read and check every rule set in a YAML file; raises TextRulesError on any mistake."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TextRulesError(
            f"Text rules file {path} cannot be read ({exc.strerror or exc}); "
            "fix SCRIBE_TEXT_RULES_FILE or create the file."
        ) from exc
    except UnicodeDecodeError as exc:
        raise TextRulesError(f"Text rules file {path} is not UTF-8 text: {exc}.") from exc
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        return _Reader(path, loader).rule_sets(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise TextRulesError(f"Text rules file {path}{line}: not valid YAML ({problem}).") from exc
    except yaml.YAMLError as exc:
        raise TextRulesError(f"Text rules file {path}: not valid YAML ({exc}).") from exc
    finally:
        loader.dispose()


class TextRulesProcessor:
    """Applies the rule sets a request names (``options.text_rules``), in the order named."""

    def __init__(self, rule_sets: Mapping[str, RuleSet]) -> None:
        self._rule_sets = dict(rule_sets)

    def validate(self, options: TranscriptionOptions) -> None:
        """Raise InvalidRequest when the request names a rule set this server does not have.

        Call it before the (slow) transcription so a typo fails at once.
        """
        unknown = [name for name in options.text_rules if name not in self._rule_sets]
        if not unknown:
            return
        available = ", ".join(sorted(self._rule_sets)) or "none (no text rules file is configured)"
        raise InvalidRequest(
            f"Unknown text rule set{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(n) for n in unknown)}. Available: {available}.",
            param="text_rules",
        )

    def wanted(self, options: TranscriptionOptions) -> bool:
        return bool(options.text_rules)

    def apply(self, transcript: Transcript, options: TranscriptionOptions) -> Transcript:
        self.validate(options)
        rules = [rule for name in options.text_rules for rule in self._rule_sets[name].rules]
        return apply_rules(transcript, rules)
