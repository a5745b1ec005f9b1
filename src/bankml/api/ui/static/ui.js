// bankml web UI: small enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // filter forms apply a changed select at once (the Apply button does the same)
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    for (const select of form.querySelectorAll("select")) {
      select.addEventListener("change", () => form.requestSubmit());
    }
  }
  // a form that cannot be undone asks first
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
