// Runs before textual.js connects (it connects on window load).
"use strict";

// Nothing shown in the terminal may open a window or navigate: xterm.js turns any
// http(s) URL in the text (a hostile label, say) into a link, and the app protocol
// has an "open_url" message. The dashboard needs neither.
Object.defineProperty(window, "open", { value: () => null, writable: false });

// The WebSocket lives beside this page, whatever path or scheme a proxy serves it under.
const socketUrl = new URL("ws", window.location.href);
socketUrl.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
socketUrl.search = "";
socketUrl.hash = "";
document.getElementById("terminal").dataset.sessionWebsocketUrl = socketUrl.href;
document.getElementById("restart").addEventListener("click", () => window.location.reload());
