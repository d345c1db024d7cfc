"""Requirements files → RequirementEntry, read exactly as a given pip version reads them.

The reader models pip's own requirements-file parser (req_file) and its requirement
constructors for pip 23.0 to 26.3 (`versions.py` lists what changed and when), follows
`-r`/`-c` includes inside the repository only, and treats every file and environment
value as untrusted (see `loader.py`).
"""

from reqhash_check.requirements.decode import auto_decode, decode_requirements, read_text
from reqhash_check.requirements.lines import entry_end, suppressions
from reqhash_check.requirements.loader import (
    MAX_FILE_BYTES,
    MAX_FILES_PER_SET,
    MAX_INCLUDE_DEPTH,
    MAX_LINE_CHARS,
    MAX_LINES_PER_SET,
    load,
)
from reqhash_check.requirements.model import (
    FileOption,
    HashSpec,
    Kind,
    ParseProblem,
    RequirementEntry,
    RequirementSet,
    RequirementsFileError,
)
from reqhash_check.requirements.versions import NEWEST, OLDEST

__all__ = [
    "MAX_FILES_PER_SET",
    "MAX_FILE_BYTES",
    "MAX_INCLUDE_DEPTH",
    "MAX_LINES_PER_SET",
    "MAX_LINE_CHARS",
    "NEWEST",
    "OLDEST",
    "FileOption",
    "HashSpec",
    "Kind",
    "ParseProblem",
    "RequirementEntry",
    "RequirementSet",
    "RequirementsFileError",
    "auto_decode",
    "decode_requirements",
    "entry_end",
    "load",
    "read_text",
    "suppressions",
]
