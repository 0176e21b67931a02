"""Markdown rendering is faithful for authors and safe for readers; summaries read like the post."""

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from blog.text import (
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    excerpt,
    plain_text,
    reading_minutes,
    render_markdown,
)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]


class _Collector(HTMLParser):
    """Tokenizes HTML much as a browser would, keeping every element and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def elements(html: str, tag: str) -> list[Element]:
    return [element for element in parse(html).elements if element.tag == tag]


def url_scheme(url: str) -> str | None:
    """The scheme a browser would see (WHATWG: trim C0/space, drop tabs and newlines)."""
    url = re.sub(r"[\t\n\r]", "", url).strip("".join(map(chr, range(0x21))))
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    return match[1].lower() if match else None


# --- Markdown features -------------------------------------------------------------------------


def test_render_returns_markup_so_templates_do_not_escape_it():
    assert isinstance(render_markdown("hi"), Markup)


def test_headings_render_as_h_elements_without_ids():
    html = render_markdown("# Title\n\n## Section\n\n###### Small")
    assert "<h1>Title</h1>" in html
    assert "<h2>Section</h2>" in html
    assert "<h6>Small</h6>" in html
    assert all("id" not in element.attrs for element in parse(html).elements)


def test_emphasis_renders_as_em_and_strong():
    html = render_markdown("*soft* and **loud**")
    assert html == "<p><em>soft</em> and <strong>loud</strong></p>\n"


def test_links_keep_href_and_title_and_get_nofollow_rel():
    (link,) = elements(render_markdown('[site](https://example.com/a "The site")'), "a")
    assert link.attrs == {
        "href": "https://example.com/a",
        "title": "The site",
        "rel": "nofollow noopener noreferrer",
    }


def test_relative_and_mailto_links_are_kept():
    html = render_markdown("[home](/blogs/1) [mail](mailto:me@example.com)")
    assert [a.attrs["href"] for a in elements(html, "a")] == ["/blogs/1", "mailto:me@example.com"]


def test_links_with_schemes_outside_the_allow_list_lose_their_href():
    (link,) = elements(render_markdown('<a href="ftp://example.com/f">file</a>'), "a")
    assert "href" not in link.attrs


def test_images_keep_src_alt_and_title():
    (img,) = elements(render_markdown('![A cat](/static/cat.png "Puss")'), "img")
    assert img.attrs == {"src": "/static/cat.png", "alt": "A cat", "title": "Puss"}


def test_lists_render_and_ordered_lists_keep_their_start():
    html = render_markdown("- one\n- two\n\n3. three\n4. four")
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    (ol,) = elements(html, "ol")
    assert ol.attrs == {"start": "3"}
    assert len(elements(html, "li")) == 4


def test_gfm_table_renders_with_alignment_but_no_style():
    html = render_markdown("| a | b |\n|---|:-:|\n| 1 | 2 |")
    assert "style" not in html
    assert [th.attrs for th in elements(html, "th")] == [{}, {"align": "center"}]
    assert [td.attrs for td in elements(html, "td")] == [{}, {"align": "center"}]
    assert [e.tag for e in parse(html).elements] == (
        ["table", "thead", "tr", "th", "th", "tbody", "tr", "td", "td"]
    )


def test_raw_table_cells_keep_only_known_alignments():
    html = render_markdown('<table><tr><td align="right">1</td><td align="x;y">2</td></tr></table>')
    assert [td.attrs for td in elements(html, "td")] == [{"align": "right"}, {}]


def test_fenced_code_keeps_its_language_class():
    html = render_markdown("```python\nif a < b:\n    pass\n```")
    assert html == '<pre><code class="language-python">if a &lt; b:\n    pass\n</code></pre>\n'


def test_fence_info_string_cannot_inject_attributes_or_odd_classes():
    html = render_markdown('```"onmouseover=alert(1)\nx\n```')
    (code,) = elements(html, "code")
    assert code.attrs == {}


def test_raw_code_class_keeps_only_language_classes():
    (code,) = elements(render_markdown('<code class="language-c++ evil hidden">x</code>'), "code")
    assert code.attrs == {"class": "language-c++"}


def test_inline_code_escapes_html_inside_backticks():
    html = render_markdown("Use `<b>` for bold")
    assert "<code>&lt;b&gt;</code>" in html
    assert elements(html, "b") == []


def test_strikethrough_renders_as_s():
    assert render_markdown("~~gone~~ kept") == "<p><s>gone</s> kept</p>\n"


def test_harmless_raw_html_that_authors_use_survives():
    body = (
        "<details><summary>More</summary>H<sub>2</sub>O, x<sup>2</sup>, <kbd>Ctrl</kbd>, "
        '<mark>hot</mark>, <abbr title="HyperText">HTML</abbr>, <del>old</del></details>'
    )
    html = render_markdown(body)
    tags = {e.tag for e in parse(html).elements}
    assert tags == {"details", "summary", "sub", "sup", "kbd", "mark", "abbr", "del"}
    assert elements(html, "abbr")[0].attrs == {"title": "HyperText"}


# --- XSS -----------------------------------------------------------------------------------------

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<script src=//evil.example/x.js></script>",
    "<<script>script>alert(1)<</script>/script>",
    "<scr\x00ipt>alert(1)</scr\x00ipt>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    '<img src="javascript:alert(1)">',
    '<img src="data:text/html,<script>alert(1)</script>">',
    '<img src="/ok.png" srcset="javascript:alert(1) 1x">',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "[x][1]\n\n[1]: javascript:alert(1)",
    '[x](/ok "title" onmouseover=alert(1))',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="\x01javascript:alert(1)">x</a>',
    '<a href="java\x00script:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="java&#x0A;script:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript&#x3A;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="https://ok.example" onmouseover="alert(1)">x</a>',
    '<a xlink:href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<math href="javascript:alert(1)">click</math>',
    "<math><mtext><table><mglyph><style><!--</style>"
    '<img title="--&gt;&lt;img src=1 onerror=alert(1)&gt;"></table></mtext></math>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p style="behavior:url(x.htc)">x</p>',
    "<details open ontoggle=alert(1)><summary>s</summary></details>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<input autofocus onfocus=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel=stylesheet href="javascript:alert(1)">',
    "<body onload=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<template><script>alert(1)</script></template>",
    "<xss onmouseover=alert(1)>x</xss>",
    '<table><tr><td background="javascript:alert(1)" onclick=alert(1)>x</td></tr></table>',
    '<p id="__proto__">x</p>',
    '<img name="getElementById" src="/ok.png">',
    '<form name="x"><input name="attributes"></form>',
    '<abbr title="x" onclick="alert(1)">y</abbr>',
    '<code class="language-x" onclick="alert(1)">y</code>',
    "<!--<img src=x onerror=alert(1)>-->",
    '```"><script>alert(1)</script>\nx\n```',
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payload_is_neutralised_and_surrounding_text_survives(payload):
    html = render_markdown(f"Before text.\n\n{payload}\n\nAfter text.")
    for element in parse(html).elements:
        assert element.tag in ALLOWED_TAGS, html
        for name, value in element.attrs.items():
            assert not name.startswith("on"), html
            assert name not in {"style", "id", "name"}, html
            if name in {"href", "src"}:
                assert url_scheme(value or "") in {None, *ALLOWED_URL_SCHEMES}, html
    text = "".join(parse(html).text)
    assert "Before text." in text
    assert "After text." in text


def test_xss_payloads_cover_at_least_thirty_cases():
    assert len(set(XSS_PAYLOADS)) >= 30


def test_script_and_style_content_is_dropped_not_shown_as_text():
    html = render_markdown("a <script>alert(1)</script> b <style>p{}</style> c")
    assert "alert" not in html
    assert "p{}" not in html


# --- plain text, excerpts, reading time ---------------------------------------------------------


def test_plain_text_strips_markup():
    body = "# Title\n\nSome *soft* and [linked](https://example.com) `code`.\n\n- a\n- b"
    assert plain_text(body) == "Title Some soft and linked code. a b"


def test_plain_text_unescapes_entities():
    assert plain_text("AT&T &amp; `<b>` &lt;i&gt;") == "AT&T & <b> <i>"


def test_plain_text_collapses_whitespace_and_strips():
    assert plain_text("  one\n\n\n   two\tthree  \n") == "one two three"


def test_plain_text_drops_script_content():
    assert plain_text("Hello <script>alert(1)</script> world") == "Hello world"


def test_excerpt_leaves_short_text_uncut_without_ellipsis():
    assert excerpt("Short *and* sweet.") == "Short and sweet."
    assert excerpt("exactly ten", length=11) == "exactly ten"


def test_excerpt_cuts_on_a_word_boundary_with_ellipsis():
    assert excerpt("alpha beta gamma delta", length=13) == "alpha beta…"


def test_excerpt_keeps_a_word_that_ends_exactly_at_the_limit():
    assert excerpt("alpha beta gamma", length=10) == "alpha beta…"


def test_excerpt_cuts_inside_a_first_word_longer_than_the_limit():
    assert excerpt("Pneumonoultramicroscopic dust", length=6) == "Pneumo…"


def test_excerpt_defaults_to_at_most_200_characters_of_whole_words():
    body = " ".join(f"word{i}" for i in range(100))
    cut = excerpt(body)
    assert cut.endswith("…")
    assert len(cut) - 1 <= 200
    assert plain_text(body).startswith(cut[:-1] + " ")


def test_reading_minutes_is_at_least_one():
    assert reading_minutes("") == 1
    assert reading_minutes("A few words.") == 1


def test_reading_minutes_rounds_up():
    assert reading_minutes(" ".join(["word"] * 400)) == 2
    assert reading_minutes(" ".join(["word"] * 401)) == 3
    assert reading_minutes(" ".join(["word"] * 101), words_per_minute=50) == 3


def test_reading_minutes_counts_words_not_markup_or_urls():
    assert reading_minutes("**one** [two](https://example.com/a/b/c) `three`", 1) == 3


# --- caching -------------------------------------------------------------------------------------


def test_render_markdown_is_cached():
    body = "Cached *body* for the cache test"
    first = render_markdown(body)
    hits = render_markdown.cache_info().hits
    assert render_markdown(body) == first
    assert render_markdown.cache_info().hits == hits + 1


def test_plain_text_is_cached():
    body = "Cached plain text for the cache test"
    first = plain_text(body)
    hits = plain_text.cache_info().hits
    assert plain_text(body) == first
    assert plain_text.cache_info().hits == hits + 1
