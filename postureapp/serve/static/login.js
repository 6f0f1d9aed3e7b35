// Trades the access token for the session cookie. The token comes from the URL
// fragment, which browsers never send to a server (so it is in no access log and no
// Referer), and is removed from the address bar and history before anything else.
"use strict";

function say(text) {
  document.getElementById("message").textContent = text;
}

async function login(token) {
  const response = await fetch("session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: token }),
    credentials: "same-origin",
  });
  if (response.ok) {
    window.location.reload();
  } else {
    say(response.status === 401 ? "That token was refused." : "Refused (" + response.status + ").");
  }
}

function fromFragment() {
  const match = /^#(?:.*&)?token=([^&]*)/.exec(window.location.hash);
  if (match) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
    login(decodeURIComponent(match[1]));
  }
}

fromFragment();
// The address pasted into a tab already showing this page changes only the fragment.
window.addEventListener("hashchange", fromFragment);
document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  login(document.getElementById("token").value.trim());
});
