"""The one stylesheet (static/css/app.css): states read by colour."""

from pathlib import Path
import re

_PATH = Path(__file__).resolve().parents[2] / "static" / "css" / "app.css"
CSS = re.sub(r"/\*.*?\*/", "", _PATH.read_text(), flags=re.DOTALL)


def declarations_for(selector: str) -> str:
    """The declarations of every rule whose selector list names `selector`."""
    found = []
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", CSS):
        names = [s.strip() for s in selectors.split(",")]
        if selector in names:
            found.append(body.strip())
    return " ".join(found)


def colour_of(selector: str) -> str:
    match = re.search(r"(?:^|;|\s)color:\s*([^;]+)", declarations_for(selector))
    assert match, f"{selector} has no colour"
    return match.group(1).strip()


def test_in_progress_states_do_not_wear_the_green_of_finished_ones():
    # "Running", "Syncing now", "Waiting for review" use badge-pending;
    # "Succeeded" and "Sent" use badge-success.
    assert colour_of(".badge-pending") != colour_of(".badge-success")


def test_long_names_wrap_inside_cards():
    assert "overflow-wrap: anywhere" in declarations_for(".card td")
