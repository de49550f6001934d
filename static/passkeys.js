// The browser's side of passkeys (app/second_factors/passkeys.py). Each form marked
// data-passkey stays hidden unless the browser can use passkeys. On submit it asks the
// server for a challenge (POST, with the form's CSRF token), runs the browser's passkey
// dialog with it, and sends the answer in the hidden "credential" field. The server
// checks everything; this file only carries the answer.
"use strict";

async function runPasskeyDialog(form) {
  const response = await fetch(form.dataset.options, {
    method: "POST",
    headers: { "X-CSRFToken": form.elements.csrf_token.value },
    credentials: "same-origin",
  });
  if (!response.ok) {
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
