"""The tracking-image rule for custom-code emails (contract §3.7): the tag must be
inside <body>, not in <head>, not commented out; and the size limit."""

import pytest

from apps.campaigns.html_checks import MAX_HTML_LENGTH, html_problems, tracking_image_problem


@pytest.mark.parametrize("html", [
    "<html><body>[[trackingImage]]</body></html>",
    "<HTML><BODY class='x' style=\"margin:0\"><p>Hi</p>[[trackingImage]]</BODY></HTML>",
    "<body>\n<table><tr><td>[[trackingImage]]</td></tr></table>\n</body>",
    "<body>[[trackingImage]]",  # an unclosed body still has the tag inside
])
def test_it_accepts_the_tag_anywhere_inside_the_body(html):
    assert tracking_image_problem(html) is None


@pytest.mark.parametrize("html, says", [
    ("<html><body><p>Hi</p></body></html>", "Add [[trackingImage]]"),
    ("<html><head>[[trackingImage]]</head><body></body></html>", "must be inside the <body>"),
    ("<body><p>x</p></body>[[trackingImage]]", "must be inside the <body>"),
    ("<body><!-- [[trackingImage]] --></body>", "not inside an HTML comment"),
    ("[[trackingImage]]", "needs a <body> element"),
    ("", "needs a <body> element"),
    ("<bodyguard>[[trackingImage]]</bodyguard>", "needs a <body> element"),
])
def test_it_refuses_a_missing_or_misplaced_tag(html, says):
    assert says in tracking_image_problem(html)


def test_it_refuses_html_longer_than_constant_contact_takes():
    html = "<body>[[trackingImage]]" + "x" * MAX_HTML_LENGTH + "</body>"

    problems = html_problems(html)

    assert len(problems) == 1 and "at most 150,000" in problems[0]
