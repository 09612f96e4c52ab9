"""Plan renderings: terminal text (rich), Markdown (PR comment), JSON. All from one Plan."""

from controller.report.markdown import render_markdown
from controller.report.text import render_text, render_text_plain

__all__ = ["render_markdown", "render_text", "render_text_plain"]
