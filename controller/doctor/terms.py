"""The doctor's comparison of the OpenIOC terms quick-add emits with the renderer's. Pure."""

from __future__ import annotations

from controller.doctor.model import Check, fail, ok
from controller.render.terms import renderer_terms


def compare_terms(emitted: dict[str, str]) -> Check:
    name = "OpenIOC terms: quick-add emits the renderer's search terms"
    expected = renderer_terms()
    differ = [
        f"{kind}: quick-add {emitted.get(kind, 'nothing')!r}, renderer {term!r}"
        for kind, term in sorted(expected.items())
        if emitted.get(kind) != term
    ]
    if not differ:
        return ok("Tanium", name, "URL documents: quick-add has no URL type (unverified)")
    return fail(
        "Tanium",
        name,
        "; ".join(differ),
        "the controller renders this tenant's terms (learned from quick-add once, cached under "
        "$OCTI_TANIUM_STATE_DIR/terms/); check one document's Engine Analysis tab, keep "
        "`target.intel.urls: false` until URLs are confirmed (docs/sync-matrix.md), and report it",
    )
