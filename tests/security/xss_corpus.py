"""Our XSS corpus: markup that would run script, load a resource or break out of an attribute
if a page put it into HTML unescaped. Generated from vectors and the contexts they try to
escape from, so every payload is ours and the list is easy to extend."""

from __future__ import annotations

from itertools import product

#: what would run: each sets `window.__xss` or opens a dialog if it ever executed
VECTORS = (
    "<script>window.__xss=1</script>",
    "<img src=x onerror=window.__xss=1>",
    "<svg onload=window.__xss=1>",
    "<iframe srcdoc=\"<script>parent.__xss=1</script>\"></iframe>",
    "<body onload=alert(1)>",
    "<a href=\"javascript:window.__xss=1\">点我</a>",
    "<details open ontoggle=window.__xss=1>",
    "<input autofocus onfocus=window.__xss=1>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    "<object data=\"javascript:window.__xss=1\"></object>",
    "<video><source onerror=window.__xss=1></video>",
    "<marquee onstart=window.__xss=1>滚动</marquee>",
    "<form action=javascript:window.__xss=1><button>提交</button></form>",
)
#: what comes before a vector, to break out of where it might be placed
BREAKOUTS = ("", "\"'>", "</textarea>", "</title>", "--></script>", "\u202e",
             "第十二条 ", "{{7*7}}")
#: payloads of other shapes
EXTRA = (
    "javascript:window.__xss=1",
    "\" onmouseover=\"window.__xss=1",
    "' autofocus onfocus='window.__xss=1",
    "<scr<script>ipt>window.__xss=1</scr</script>ipt>",
    "&lt;script&gt;window.__xss=1&lt;/script&gt;",
    "<SCRIPT SRC=//example.invalid/x.js></SCRIPT>",
    "<style>*{display:none}</style>",
    "<meta http-equiv=refresh content=0;url=javascript:window.__xss=1>",
    "<base href=//example.invalid/>",
    "%3Cscript%3Ewindow.__xss=1%3C/script%3E",
    "=HYPERLINK(\"http://example.invalid\",\"点\")",
    "${alert(1)}",
)

PAYLOADS: tuple[str, ...] = tuple(b + v for b, v in product(BREAKOUTS, VECTORS)) + EXTRA
