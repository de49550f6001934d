"""SecureSessionsFlask's overrides of Flask: the same answers as Flask, computed once."""

import inspect

from app import MAX_KNOWN_FUNCTIONS


def test_plain_hooks_are_returned_as_they_are(app):
    def hook():
        return "ran"

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook


def test_a_coroutine_function_is_still_wrapped_for_wsgi(app, monkeypatch):
    async def view():
        return "ran"

    wrapped = []
    monkeypatch.setattr(app, "async_to_sync", lambda func: wrapped.append(func) or (lambda: "sync"))
    for _ in range(2):
        assert app.ensure_sync(view)() == "sync"
    assert wrapped == [view, view]
    assert inspect.iscoroutinefunction(view)


def test_functions_made_on_the_fly_cannot_grow_what_is_remembered(app):
    def made_for(number):
        return lambda: number

    for number in range(MAX_KNOWN_FUNCTIONS + 50):
        assert app.ensure_sync(made_for(number))() == number
    assert len(app.coroutine_functions) == MAX_KNOWN_FUNCTIONS
