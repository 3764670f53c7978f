"""Times a user entered are shown as durations wherever they are shown (``500ms``, not
``0.5``): the check page's settings, the form's inputs, ``nyxmon check show``."""

from __future__ import annotations

from nyxmon.config import check_models
from nyxmon.web.pages.check_forms import form_spec
from nyxmon.web.pages.formatting import shown_params
from nyxmon.web.pages.forms import form_values


def test_the_check_page_shows_max_response_time_as_a_duration() -> None:
    shown = dict(shown_params({"url": "http://x/", "max_response_time": 0.5, "max_redirects": 3}))
    assert shown == {"url": "http://x/", "max_response_time": "500ms", "max_redirects": "3"}


def test_the_form_shows_and_takes_max_response_time_as_a_duration() -> None:
    spec = form_spec("http")
    (field,) = [f for f in spec.params if f.name == "max_response_time"]
    assert field.kind == "duration"
    assert form_values([field], {"max_response_time": 1.5}) == {"max_response_time": "1.5s"}
    model = check_models()["http"]
    check = model.model_validate({"name": "a", "type": "http", "url": "http://x/",
                                  "max_response_time": "1s500ms"})  # fmt: skip
    assert check.max_response_time == 1.5  # type: ignore[attr-defined]
