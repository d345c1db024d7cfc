"""A small subset of the real-file agreement harness (off by default: run with `-m online`).

Each case runs `reqhash-check` and the real pip on a committed real requirements file
for one target, as `tests/realfiles/agreement.py` does for the whole corpus, and asks for
the same verdict, every error finding confirmed by pip and no pip failure missed.
"""

from __future__ import annotations

import pytest

from tests.realfiles.agreement import MEMO, Memo, Outcome, compare
from tests.realfiles.cases import CASES, Case

pytestmark = [pytest.mark.online, pytest.mark.slow]

# Disagreements that are understood and wait for a product fix; strict, so a fix shows.
# (zipp 0.6.0's dependency on more-itertools in addons-server's file, once listed here, is
# now read from the wheel by range requests.)
KNOWN: dict[str, str] = {}

QUICK = [
    pytest.param(
        case,
        target,
        pip_version,
        id=f"{case.path.split('/')[0]}-{target[0]}-{target[1]}-pip{pip_version}",
        marks=[pytest.mark.xfail(reason=KNOWN[case.path], strict=True)]
        if case.path in KNOWN
        else [],
    )
    for case in CASES
    if case.quick
    for target in case.targets[:1]
    for pip_version in case.pips
]


@pytest.fixture(scope="module")
def memo() -> Memo:
    return Memo(MEMO, fresh=False)


@pytest.mark.parametrize(("case", "target", "pip_version"), QUICK)
def test_tool_agrees_with_pip(
    case: Case, target: tuple[str, str], pip_version: str, memo: Memo
) -> None:
    outcome: Outcome = compare(case, target, pip_version, memo)
    memo.save()
    assert outcome.verdict_agrees, (outcome.pip_failures, outcome.tool_errors, outcome.pip_tail)
    assert outcome.false == [], outcome.false
    assert outcome.missed == [], outcome.missed
