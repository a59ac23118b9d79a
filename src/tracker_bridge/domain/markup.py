"""Data in text a tracker renders: error messages, instances, file names never become structure.

A ticket's description, a comment, a delegated ticket's template: the bridge writes them as the
tracker's markup, with data from the wild inside (``!http://x/pixel.png!``, ``[reset|http://x]``,
``@security-team``, ``#1``, ``<img src=...>``, an unclosed ``<details open>``, a file name with
line breaks). ``escape`` makes one value inert for one markup:

- **jira-wiki** (REST v2 descriptions and comments): every wiki-markup character escaped with a
  backslash, so no image, link, macro, table, mention (``[~user]``) or list comes from data;
- **github-markdown**: HTML's ``< > &`` as entities, Markdown's punctuation backslash-escaped, and
  a zero-width space after ``@`` and ``#`` so no mention notifies anyone and no ``#1`` links;
- **plain** (the embedded tracker): unchanged.

Line breaks inside a value become spaces in both markups: a value is inline wherever it goes, so a
newline cannot open a heading, a list or a new paragraph. Bare URLs the bridge made (a ticket's
own address) are left alone, so they still link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

Markup = Literal["jira-wiki", "github-markdown", "plain"]

_JIRA_SPECIAL = re.compile(r"([\\*_+\-^~?{}\[\]|!#])")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()+\-.!|~=])")
_URL = re.compile(r"https?://[^\s<>\"'`|\[\]{}!]+")
ZWSP = "\u200b"


def escape(text: str, markup: Markup) -> str:
    """``text`` as inert, inline data in ``markup``."""
    if markup == "plain":
        return text
    flat = " ".join(text.split())
    if _URL.fullmatch(flat):
        return flat
    if markup == "jira-wiki":
        return _JIRA_SPECIAL.sub(r"\\\1", flat)
    html = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html)
    return escaped.replace("@", "@" + ZWSP).replace("#", "#" + ZWSP)


def escaper(markup: Markup) -> Callable[[str], str]:
    """``escape`` bound to one markup."""
    return lambda text: escape(text, markup)
