"""A browser's workspace: its runs and its network, named by an unguessable token kept in
a cookie, so they survive a reload, a closed tab reopened, and a server restart.

Why a cookie: it stays with the browser and never travels in a link, so sharing the
settings (the URL) never hands over anyone's runs; the server reads it when the page
connects (``st.context.cookies``), so the workspace is there on the very first run; and
it works on Streamlit Community Cloud, where the app has no login. The trade-off: a
browser that refuses cookies, or a private window, gets a fresh workspace each visit.

A token is only ever made here (192 random bits). A cookie that is malformed, forged or
unknown to the run database gets a fresh workspace, never access to another one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import streamlit as st

COOKIE = "mnist_np_workspace"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def new_token() -> str:
    """A fresh, unguessable workspace token: 32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


def choose(cookie: str | None, known: Callable[[str], bool]) -> tuple[str, bool]:
    """``(token, restored)``: the cookie's workspace when it is well-formed and
    ``known``, else a new token (``restored`` False)."""
    if cookie is not None and _TOKEN.fullmatch(cookie) and known(cookie):
        return cookie, True
    return new_token(), False


def cookie() -> str | None:
    """The workspace cookie the browser sent when this page connected."""
    value = st.context.cookies.get(COOKIE)
    return value if isinstance(value, str) else None


def remember(token: str, max_age_days: float) -> None:
    """Have the browser keep ``token`` (once per page load: a tiny script, no visible
    element)."""
    if cookie() == token:
        return
    seconds = int(max_age_days * 86400)
    st.html(f"""<script>
document.cookie = "{COOKIE}={token}; Path=/; Max-Age={seconds}; SameSite=Lax"
    + (location.protocol === "https:" ? "; Secure" : "");
</script>""", unsafe_allow_javascript=True)
