"""How the templates draw a form field, and a form's own errors, for every reader.

``field(form.password, autocomplete="current-password", hint=...)`` gives the field's
label, its hint, its input and its error in one ``<div class="field">``. The input
names the hint and the error in ``aria-describedby``, so a screen reader reads them
with it, and says ``aria-invalid="true"`` while the field has an error (WCAG 2.1,
success criteria 1.3.1 and 3.3.1). ``form_errors(form)`` gives the errors that belong
to no field, such as a wrong password, in an alert.

Both are Jinja globals, so a template calls them without importing anything. They
were Jinja macros: importing them and calling them cost the sign-in page 0.03 ms
of its 0.62 ms (bench/breakdown.py), in Jinja's bookkeeping, not in the markup.

Every text that goes into the markup is escaped unless it is already ``Markup``:
the label and input WTForms drew, and the translated text of our templates.
"""

from markupsafe import Markup

DESCRIBED_BY_SEPARATOR = " "


def init_app(app):
    """Make ``field`` and ``form_errors`` functions of every template."""
    app.jinja_env.globals.update(field=field, form_errors=form_errors)


def field(form_field, autocomplete=None, hint=None, autofocus=False):
    """The markup of ``form_field`` (a bound WTForms field) with its label, hint and error.

    ``autocomplete`` is the input's token (``"username"``, ``"new-password"``), left
    out when ``None``; ``hint`` a short help text shown above the input; ``autofocus``
    puts the cursor in the input when the page opens. Returns ``Markup``.
    """
    hint_id, error_id = f"{form_field.id}-hint", f"{form_field.id}-error"
    described_by = []
    if hint:
        described_by.append(hint_id)
    if form_field.errors:
        described_by.append(error_id)
    parts = [
        Markup('<div class="field has-error">') if form_field.errors else Markup('<div class="field">'),
        form_field.label(),
    ]
    if hint:
        parts.append(Markup('<p class="hint" id="{}">{}</p>').format(hint_id, hint))
    parts.append(
        form_field(
            autocomplete=autocomplete or False,
            required=form_field.flags.required or False,
            autofocus=autofocus,
            **{
                "aria-describedby": DESCRIBED_BY_SEPARATOR.join(described_by) or False,
                "aria-invalid": "true" if form_field.errors else False,
            },
        )
    )
    if form_field.errors:
        # Markup.join escapes each error that is not Markup already.
        errors = Markup(" ").join(form_field.errors)
        parts.append(Markup('<p class="error" id="{}">{}</p>').format(error_id, errors))
    parts.append(Markup("</div>"))
    return Markup("\n").join(parts)


def form_errors(form):
    """The errors of ``form`` that belong to no field, as an alert; empty ``Markup`` if none."""
    if not form.form_errors:
        return Markup()
    paragraphs = Markup().join(Markup("<p>{}</p>").format(error) for error in form.form_errors)
    return Markup('<div class="form-errors" role="alert">{}</div>').format(paragraphs)
