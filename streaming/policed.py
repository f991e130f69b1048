"""Producers' line sources as the mixer opens them: only as the operator's policy admits.

The stage decides what a source may be (stage/sources/); the mixer core knows nothing of the
policy and asks each spec's `admit` at every open. That check resolves the name then, so a DNS
answer that changed since the producer gave the source is caught too.
"""

import io
from dataclasses import dataclass

from stage.sources.checks import MAX_REASON_LENGTH, Resolver, admit_source, system_resolver
from stage.sources.policy import SourceError, SourcePolicy
from streaming.core.lines import LineSpec, Opening, SourceRefused


@dataclass(frozen=True)
class PolicedSource:
    """A source and the policy it is opened under. Equal sources make equal line specs, so the
    engine leaves a running line alone when the stage repeats it."""

    url: str
    format: str | None
    policy: SourcePolicy
    resolve: Resolver = system_resolver

    def __call__(self) -> Opening:
        """What to open for the source now, or SourceRefused with the policy's reason."""
        try:
            admission = admit_source(self.url, self.format, self.policy, self.resolve)
        except SourceError as refusal:
            raise SourceRefused(str(refusal)[:MAX_REASON_LENGTH]) from None
        target = io.BytesIO(admission.target) if isinstance(admission.target, bytes) else admission.target
        return Opening(target, admission.format, admission.options)


def policed_spec(
    line_id: str, url: str, format: str | None = None, *, policy: SourcePolicy, resolve: Resolver = system_resolver
) -> LineSpec:
    """A line spec opened only as `policy` admits, at every open."""
    return LineSpec(line_id, url, format=format, admit=PolicedSource(url, format, policy, resolve))
