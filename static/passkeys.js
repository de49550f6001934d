// The browser's side of passkeys (app/second_factors/passkeys.py). Each form marked
// data-passkey stays hidden unless the browser can use passkeys. On submit it asks the
// server for a challenge (POST, with the form's CSRF token), runs the browser's passkey
// dialog with it, and sends the answer in the hidden "credential" field. The server
// checks everything; this file only carries the answer. A refusal may name the page to
// go to instead (sign in, or confirm the password first): a path on this site only.
"use strict";

async function runPasskeyDialog(form) {
  const response = await fetch(form.dataset.options, {
    method: "POST",
    headers: { "X-CSRFToken": form.elements.csrf_token.value },
    credentials: "same-origin",
  });
  if (!response.ok) {
    const refusal = await response.json().catch(() => ({}));
    const location = refusal.location;
    if (typeof location === "string" && /^\/(?![\/\\])/.test(location)) {
      window.location.assign(location);
      return null;
    }
    throw new Error(`options: ${response.status}`);
  }
  const options = await response.json();
  if (form.dataset.passkey === "register") {
    return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
  }
  return navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
}

function enablePasskeyForm(form) {
  const error = form.querySelector("[data-passkey-error]");
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) {
      return;
    }
    error.hidden = true;
    try {
      const credential = await runPasskeyDialog(form);
      if (credential === null) {
        return; // on the way to the page the server named
      }
      form.elements.credential.value = JSON.stringify(credential.toJSON());
      form.submit();
    } catch {
      error.hidden = false;
    }
  });
}

if (window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON) {
  document.querySelectorAll("form[data-passkey]").forEach(enablePasskeyForm);
}
