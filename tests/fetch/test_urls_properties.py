"""Properties of canonical URLs over generated URLs."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.urls import canonicalize, is_tracking_param

_label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
_host = st.lists(_label, min_size=1, max_size=3).map(lambda parts: ".".join([*parts, "example"]))
_segment = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#\x00"), max_size=8)
_param = st.sampled_from(["id", "p", "v", "ref", "page", "utm_source", "utm_campaign", "fbclid", "gclid", "mc_eid", "q"])


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(_host)
    host = "".join(c.upper() if draw(st.booleans()) else c for c in host)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/".join(draw(st.lists(_segment, max_size=4)))
    params = draw(st.lists(st.tuples(_param, _label), max_size=5))
    fragment = draw(st.sampled_from(["", "#top", "#section-2"]))
    query = ("?" + urlencode(params)) if params else ""
    return f"{scheme}://{host}{port}/{path}{query}{fragment}"


@settings(max_examples=300, deadline=None)
@given(urls())
def test_canonical_form_is_stable_and_clean(url: str) -> None:
    once = canonicalize(url)
    assert canonicalize(once) == once
    parts = urlsplit(once)
    assert parts.fragment == "" and parts.scheme in ("http", "https") and parts.netloc == parts.netloc.lower()
    kept = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
    assert not any(is_tracking_param(name) for name in kept)
    meaningful = sorted(name for name, _ in parse_qsl(urlsplit(url).query) if not is_tracking_param(name))
    assert sorted(kept) == meaningful


@settings(max_examples=200, deadline=None)
@given(urls(), st.lists(st.tuples(st.sampled_from(["utm_source", "utm_medium", "fbclid", "mc_cid"]), _label)))
def test_tracking_parameters_do_not_change_the_canonical_form(url: str, extra: list[tuple[str, str]]) -> None:
    base, _, fragment = url.partition("#")
    joined = base + ("&" if "?" in base else "?") + urlencode(extra) if extra else base
    assert canonicalize(joined + ("#" + fragment if fragment else "")) == canonicalize(url)
