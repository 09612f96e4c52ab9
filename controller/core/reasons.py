"""Why: the closed set of reasons a plan item or a skipped object carries. Pure.

A `StrEnum`, so a reason is its JSON value everywhere (`Reason.NEW == "new"`, f-strings,
sorting): the plan's JSON, the reports and any caller comparing with a plain string see
exactly the strings they saw before the set was closed.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # a create or an update
    NEW = "new"
    """Desired, not in Tanium."""
    CHANGED = "changed"
    """The content changed at the source: the marker's digest is not the desired one."""
    LABELS = "labels"
    """Only the labels differ."""
    DRIFT = "drift"
    """Edited in Tanium: the content differs but the marker's digest is the desired one."""
    IN_SYNC = "in-sync"
    """A no-op: Tanium holds exactly what is desired."""
    UNDEPLOYED = "undeployed"
    """A deploy for owned documents changed after the last completed Intel DB deployment."""
    # a delete, or a skip (the reason an object is not desired)
    REPLACED = "replaced"
    """The old document of one whose type changed (Tanium cannot change a type in place)."""
    DUPLICATE = "duplicate"
    """A surplus copy of an owned key."""
    OUT_OF_SCOPE = "out-of-scope"
    """Owned, no longer selected by any policy."""
    SOURCE_INCOMPLETE = "source-incomplete"
    """Owned, not in the desired state, but the source answered incompletely (unreachable,
    a failed page, a count mismatch): the object may well still be desired, so its delete is
    withheld — never reported as `out-of-scope`."""
    REVOKED = "revoked"
    EXPIRED = "expired"
    TLP_RED = "tlp-red"
    DETECTION_DISABLED = "detection-disabled"
    EXCLUDED = "excluded"
    QUOTA = "quota"
    MERGED = "merged"
    """A file key folded into another file sharing a hash."""
    MIGRATED = "migrated"
    """A document of a source named in `Settings.adopt.fromSources` (OpenCTI's connector)
    holding only desired values or content: replaced by octi-tanium's own."""
    ADOPTED = "adopted"
    """A blocklist entry without our marker holding a desired file's hashes, taken over in
    place (`Settings.adopt.blocklist`)."""
    ORPHAN = "orphan"
    """Reserved by the design (documents of a renamed source); not emitted yet."""
    # skipped only
    CONFLICT = "conflict"
    """Held by an object octi-tanium does not own: neither taken over nor overwritten."""
    NO_TARGET = "no-target"
    UNSUPPORTED_PATTERN_TYPE = "unsupported-pattern-type"
    UNSUPPORTED_OBSERVABLE = "unsupported-observable"
    UNSUPPORTED_PATTERN = "unsupported-pattern"
    INVALID_CONTENT = "invalid-content"
    UNSUPPORTED = "unsupported"
