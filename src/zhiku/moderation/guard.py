"""Applying a policy: questions checked before anything else runs, answers checked as they
stream (a blocked word never reaches the client), every hit logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from zhiku.core.errors import ProviderError
from zhiku.moderation.endpoint import EndpointVerdict
from zhiku.moderation.policy import ModerationPolicy
from zhiku.moderation.store import EXCERPT_CHARS, Hit
from zhiku.moderation.words import Match, WordList, mask

log = logging.getLogger(__name__)
Direction = Literal["input", "output"]


@dataclass(slots=True)
class Verdict:
    """The text to use (masked where listed), or ``blocked`` with the policy's reply."""

    text: str
    blocked: bool = False
    matches: list[Match] = field(default_factory=list)


class Moderator:
    """One policy, compiled: word lists per direction and the optional endpoint."""

    def __init__(self, policy: ModerationPolicy, record: Callable[[Hit], None],
                 endpoint: Callable[[str], EndpointVerdict] | None = None) -> None:
        self.policy = policy
        self._record = record
        self._endpoint = endpoint
        self._lists = {d: WordList(policy.rules(d)) for d in ("input", "output")}

    def check_input(self, text: str, app: str | None = None,
                    channel: str | None = None) -> Verdict:
        """A question: listed words, then the endpoint (if any)."""
        verdict = self._words(text, "input", app, channel)
        if verdict.blocked or self._endpoint is None:
            return verdict
        try:
            found = self._endpoint(verdict.text)
        except ProviderError as exc:
            log.warning("moderation endpoint unavailable: %s", exc.message)
            action = self.policy.endpoint_failure
            self._record(Hit("input", "block" if action == "block" else "allow", "endpoint",
                             ["unavailable"], _excerpt(verdict.text, []), app, channel))
            if action == "block":
                return Verdict(self.policy.block_reply, blocked=True)
            return verdict
        if found.flagged:
            self._record(Hit("input", "block", "endpoint", found.categories or ["flagged"],
                             _excerpt(verdict.text, []), app, channel))
            return Verdict(self.policy.block_reply, blocked=True)
        return verdict

    def check_output(self, text: str, app: str | None = None, channel: str | None = None,
                     *, record: bool = True) -> Verdict:
        """A whole answer (``record=False``: a final check of text already logged while it
        streamed)."""
        return self._words(text, "output", app, channel, record=record)

    def scrub(self, text: str) -> str:
        """``text`` with every word listed for answers masked, whatever its action (for
        passages shown beside an answer); nothing is logged."""
        return mask(text, self._lists["output"].find(text), self.policy.mask_char)

    def words_only(self, text: str, direction: Direction) -> Verdict:
        """What the word list does to ``text``, logging nothing (a dry run)."""
        return self._words(text, direction, None, None, record=False)

    def output_filter(self, app: str | None = None, channel: str | None = None, *,
                      log_masks: bool = True) -> OutputFilter:
        """A filter for an answer arriving in pieces (``log_masks=False``: only blocks are
        logged, for text that is logged as part of another answer)."""
        return OutputFilter(self, app, channel, log_masks=log_masks)

    def _words(self, text: str, direction: Direction, app: str | None,
               channel: str | None, *, record: bool = True) -> Verdict:
        matches = self._lists[direction].find(text)
        if not matches:
            return Verdict(text)
        blocked = any(m.action == "block" for m in matches)
        words = sorted({m.word for m in matches})
        if record:
            self._record(Hit(direction, "block" if blocked else "mask", "words", words,
                             _excerpt(text, matches, self.policy.mask_char), app, channel))
        if blocked:
            return Verdict(self.policy.block_reply, blocked=True, matches=matches)
        return Verdict(mask(text, matches, self.policy.mask_char), matches=matches)

    def longest(self, direction: Direction) -> int:
        """The longest listed form (in characters) that applies to ``direction``."""
        return self._lists[direction].longest


class OutputFilter:
    """Holds back the tail of a streamed answer until no listed word can still complete in it.

    ``feed`` returns the text that may be sent now (masked where needed); once a blocked word
    appears, ``blocked`` is set and nothing more is released. ``finish`` releases the rest and
    logs the masked words once for the whole answer. Words are matched on the text as the
    model wrote it (masking keeps lengths), so a masked span is never matched again.
    """

    def __init__(self, moderator: Moderator, app: str | None, channel: str | None, *,
                 log_masks: bool = True) -> None:
        self._moderator = moderator
        self._log_masks = log_masks
        self._app, self._channel = app, channel
        # spacing and punctuation between a word's characters are skipped when matching, so a
        # listed word may span more characters than it has
        self._hold = 3 * moderator.longest("output") + 8
        self._raw = ""  # the held-back tail as written
        self._shown = ""  # the same tail, masked
        self._raw_sent = ""  # the last characters already sent, as written
        self._masked: set[str] = set()
        self.released = False  # some text went out already
        self.blocked = False
        self.active = moderator.longest("output") > 0

    def feed(self, piece: str) -> str:
        """The part of the answer so far that is safe to send now."""
        if self.blocked:
            return ""
        if not self.active:
            self.released = self.released or bool(piece)
            return piece
        self._raw += piece
        self._shown += piece
        return self._release(final=False)

    def finish(self) -> str:
        """What remains once the answer is complete."""
        if self.blocked or not self.active:
            return ""
        out = self._release(final=True)
        if self._masked and self._log_masks:
            self._moderator._record(Hit("output", "mask", "words", sorted(self._masked),
                                        "", self._app, self._channel))
        return out

    def _release(self, *, final: bool) -> str:
        offset = len(self._raw_sent)
        window = self._raw_sent + self._raw
        fresh = [m for m in self._moderator._lists["output"].find(window) if m.end > offset]
        char = self._moderator.policy.mask_char
        if any(m.action == "block" for m in fresh):
            self.blocked = True
            words = sorted({m.word for m in fresh})
            self._moderator._record(Hit("output", "block", "words", words,
                                        _excerpt(window, fresh, char), self._app,
                                        self._channel))
            return ""
        if fresh:
            self._masked.update(m.word for m in fresh)
            # a span that began in text already sent masks only its unsent part
            self._shown = mask(window, fresh, char)[offset:]
        cut = len(self._raw) if final else max(0, len(self._raw) - self._hold)
        out = self._shown[:cut]
        self._raw_sent = (self._raw_sent + self._raw[:cut])[-self._hold:]
        self._raw, self._shown = self._raw[cut:], self._shown[cut:]
        self.released = self.released or bool(out)
        return out


def _excerpt(text: str, matches: list[Match], char: str = "*") -> str:
    """The text around the first hit (or its start), listed words masked."""
    first = matches[0].start if matches else 0
    start = max(0, first - EXCERPT_CHARS // 2)
    return mask(text, matches, char)[start:start + EXCERPT_CHARS]
