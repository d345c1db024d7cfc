"""pip's other hash-checking failures, each mapped to a rule of `reqhash_check.rules`."""

from __future__ import annotations

from reqhash_check.explain import fixlines
from reqhash_check.explain.draft import (
    Draft,
    Published,
    check_command,
    file_list,
    fix_command,
    fix_file,
    label,
    lines_for,
    plural,
    problem_text,
    short,
)
from reqhash_check.explain.logparse import Failure, FailureKind
from reqhash_check.explain.lookup import Facts
from reqhash_check.explain.model import Context, Diagnosis, Fix
from reqhash_check.rules import RULES


def _is_dependency(failure: Failure, draft: Draft) -> bool:
    if failure.via:
        return True
    return draft.ctx.requirements is not None and draft.current is None


def diagnose_missing(failure: Failure, facts: Facts, ctx: Context) -> Diagnosis:
    draft = Draft(failure, ctx, facts)
    dependency = _is_dependency(failure, draft)
    rule = "missing-dependency" if dependency else "missing-hash"
    published = Published(failure.version, facts)
    got_file = None
    algorithm, _, digest = (failure.got or "::").partition(":")
    if digest:
        got_file = published.find(algorithm, digest)
    version = failure.version or (got_file.version if got_file is not None else None)
    if version is not None and not published.version_files:
        published = Published(version, facts)
    project = failure.project
    shown = label(project, version) if project else failure.requirement
    if dependency:
        via = f" of {failure.via}" if failure.via else ""
        message = (
            f"{shown} is a dependency{via} that is not pinned with its hashes in "
            f"{fix_file(failure, ctx, draft.current) or 'the requirements'}; in hash-checking "
            "mode pip needs every dependency pinned and hashed."
        )
    else:
        message = (
            f"{shown} has no --hash while other requirements do, so pip's hash-checking mode "
            "(on as soon as any requirement has a hash) refuses it."
        )
    hashes = published.version_hashes()
    if (
        facts.asked
        and not facts.index_failed
        and got_file is None
        and algorithm in published.algorithms
    ):
        message += (
            f" The hash pip printed ({short(digest)}) matches no file {ctx.index} publishes: "
            "do not copy pip's suggested line; find out what served that file first."
        )
    elif got_file is not None:
        message += f" pip downloaded {got_file.filename}, as {ctx.index} publishes it."
    if not project or version is None:
        return draft.undetermined(
            f"{message} Which version pip took could not be told", kb=RULES[rule].kb
        )
    if not hashes:
        if facts.index_failed or not facts.asked:
            hashes = (failure.got,) if failure.got else ()
            draft.notes.append(
                "the hash is the one pip printed, not confirmed with the index: "
                + problem_text(facts)
            )
        else:
            return draft.undetermined(f"{message} {problem_text(facts)}", kb=RULES[rule].kb)
    path = fix_file(failure, ctx, draft.current)
    if dependency:
        lines = fixlines.hash_lines(f"{project}=={version}", hashes)
        fix = Fix(
            summary=f"add {project}=={version} with its hashes to {path or 'the requirements'}"
            + (f" (it is required by {failure.via})" if failure.via else ""),
            action="add",
            lines=lines,
            check=check_command(path),
        )
    else:
        fix = Fix(
            summary=f"list {project}=={version}'s published hashes",
            action="replace",
            lines=lines_for(failure, draft.entry, version, hashes),
            command=fix_command(path),
            check=check_command(path),
        )
    return draft.build(
        rule,
        message,
        fix,
        version=version,
        file=got_file.filename if got_file is not None else None,
        kb=RULES[rule].kb,
        needed=hashes,
    )


def diagnose_unpinned(failure: Failure, facts: Facts, ctx: Context) -> Diagnosis:
    draft = Draft(failure, ctx, facts)
    dependency = failure.via is not None
    rule = "missing-dependency" if dependency else "unpinned"
    project, version = failure.project, failure.version
    if project is None or version is None:
        return draft.undetermined(
            f"{failure.requirement} is not pinned with ==, and pip's message does not say "
            "which version it chose",
            kb=RULES[rule].kb,
        )
    published = Published(version, facts)
    hashes = published.version_hashes()
    if not hashes and failure.page_sha256:
        hashes = (f"sha256:{failure.page_sha256}",)
        draft.notes.append(
            "the hash is the one pip's index page stated, not confirmed with the index: "
            + problem_text(facts)
        )
    if not hashes:
        return draft.undetermined(
            f"{failure.requirement} is not pinned with ==; {problem_text(facts)}",
            kb=RULES[rule].kb,
        )
    path = fix_file(failure, ctx, draft.current)
    if dependency:
        message = (
            f"{failure.requirement} is a dependency of {failure.via} that is not pinned in "
            f"{path or 'the requirements'}: in hash-checking mode every dependency must be "
            f"pinned with == and hashed. pip chose {version}."
        )
        fix = Fix(
            summary=f"add {project}=={version} with its hashes to {path or 'the requirements'} "
            f"(it is required by {failure.via})",
            action="add",
            lines=fixlines.hash_lines(f"{project}=={version}", hashes),
            check=check_command(path),
        )
    else:
        message = (
            f"{failure.requirement} is not pinned with ==: pip before 26.1 refuses a requirement "
            f"in hash-checking mode unless it names one version (pip 26.1 and later accept a "
            f"hashed one). pip chose {version}."
        )
        first = fixlines.pinned_requirement(failure.requirement, project, version)
        fix = Fix(
            summary=f"pin {project}=={version} and list its published hashes",
            action="replace",
            lines=fixlines.hash_lines(first, hashes),
            check=check_command(path),
        )
    return draft.build(rule, message, fix, kb=RULES[rule].kb, needed=hashes)


def diagnose_unhashable(failure: Failure, ctx: Context) -> Diagnosis:
    draft = Draft(failure, ctx, Facts())
    what = (
        "a version-control requirement: pip has no way to hash a repository"
        if failure.kind is FailureKind.VCS
        else "a local folder: pip cannot hash a directory"
    )
    target = failure.url or failure.requirement
    message = f"{failure.requirement} is {what}, so hash-checking mode refuses it."
    fix = Fix(
        summary=f"take it out of the hashed requirements and install it in a separate step "
        f"without hash checking (pip install --no-deps '{target}'), or build a wheel of it "
        "(pip wheel --no-deps) and list that wheel with its hash",
        action="remove",
    )
    return draft.build("unhashable", message, fix, kb=RULES["unhashable"].kb)


def diagnose_not_found(failure: Failure, facts: Facts, ctx: Context) -> Diagnosis:
    draft = Draft(failure, ctx, facts)
    project, version = failure.project, failure.version
    if project is None:
        return draft.undetermined(f"pip found no version of {failure.requirement}")
    problem = facts.release_problem
    published = Published(version, facts)
    if (
        problem is not None
        and problem.kind == "project"
        or (facts.project_problem is not None and facts.project_problem.kind == "project")
    ):
        message = f"{ctx.index} has no project {project}: pip found nothing to install."
        fix = Fix(f"check the name {project!r} and the index pip uses")
        return draft.build("unknown-project", message, fix, kb=RULES["unknown-project"].kb)
    if facts.index_failed and facts.release is None:
        return draft.undetermined(problem_text(facts))
    if version is not None and facts.release is None and problem is not None:
        versions = published.versions()
        newest = ", ".join(versions[-5:]) if versions else "none"
        message = (
            f"{ctx.index} publishes no {project} {version} (its versions end with: {newest}): "
            "pip found nothing to install."
        )
        fix = Fix(f"pin a version {ctx.index} publishes", action="none")
        return draft.build("unknown-version", message, fix, kb=RULES["unknown-version"].kb)
    files = published.version_files
    if version is None or not files:
        return draft.undetermined(f"pip found no version of {failure.requirement} it could install")
    wheels = [f for f in files if f.is_wheel]
    sdists = [f for f in files if not f.is_wheel]
    parts = [
        f"{label(project, version)} publishes {plural(len(files), 'file')} "
        f"({file_list(files)}) and pip could install none of them on its platform"
    ]
    if sdists:
        parts.append(
            "; its sdist was not an option: --only-binary, or a Requires-Python pip's Python "
            "does not meet"
        )
    elif wheels:
        parts.append("; there is no sdist to fall back on")
    message = "".join(parts) + "."
    needs = sorted({f.requires_python for f in files if f.requires_python})
    if needs and not any("Requires-Python" in line for line in failure.ignored):
        message += f" Its files need Requires-Python {' or '.join(needs)}."
    if failure.ignored:
        message += " pip said: " + " ".join(failure.ignored)
    if all(f.yanked for f in files):
        message += " Every file of this version is yanked."
    fix = Fix(
        summary="pin a version that publishes a file for the platform pip runs on, allow the "
        "sdist (drop --only-binary for it), or run pip on a platform it publishes a wheel for",
        check=check_command(fix_file(failure, ctx, draft.current)),
    )
    return draft.build("no-installable-file", message, fix, kb=RULES["no-installable-file"].kb)
