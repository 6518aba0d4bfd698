// The Zhiku chat widget. On any page:
//   <script src="<the Zhiku server>/widget.js" data-share="TOKEN" data-mode="bubble"></script>
// data-mode: "bubble" (a floating button that opens the chat) or "inline" (the chat where the
// script stands, or inside the element named by data-target). Optional: data-lang (zh|en),
// data-height (inline), data-title, and a signed identity: data-user, data-exp, data-sig and
// optionally data-name (the user's display name, when the signature covers it).
// The chat runs in a frame from the Zhiku server; no key is ever part of this page.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.share) return;
  var data = script.dataset;
  var base = new URL(script.src, location.href).origin;
  var params = new URLSearchParams();
  params.set("embed", data.mode === "inline" ? "inline" : "bubble");
  ["user", "name", "exp", "sig", "lang"].forEach(function (k) { if (data[k]) params.set(k, data[k]); });
  var src = base + "/s/" + encodeURIComponent(data.share) + "#" + params.toString();
  var title = data.title || (String(data.lang || navigator.language).indexOf("zh") === 0 ? "智能问答" : "Chat");

  function frame() {
    var f = document.createElement("iframe");
    f.src = src;
    f.title = title;
    f.setAttribute("data-zhiku-widget", "frame");
    f.style.border = "1px solid #d0d5dd";
    f.style.borderRadius = "12px";
    f.style.background = "#fff";
    return f;
  }

  if (data.mode === "inline") {
    var f = frame();
    f.style.width = "100%";
    f.style.height = data.height || "560px";
    var target = data.target ? document.querySelector(data.target) : null;
    if (target) target.appendChild(f);
    else script.parentNode.insertBefore(f, script.nextSibling);
    return;
  }

  var button = document.createElement("button");
  button.type = "button";
  button.setAttribute("data-zhiku-widget", "bubble");
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-label", title);
  var ns = "http://www.w3.org/2000/svg";  // a speech-bubble icon: no emoji font needed
  var icon = document.createElementNS(ns, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("width", "28");
  icon.setAttribute("height", "28");
  icon.setAttribute("aria-hidden", "true");
  var path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
  path.setAttribute("fill", "currentColor");
  icon.appendChild(path);
  button.appendChild(icon);
  var s = button.style;
  s.position = "fixed"; s.right = "20px"; s.bottom = "20px"; s.width = "56px"; s.height = "56px";
  s.borderRadius = "50%"; s.border = "none"; s.background = "#1f5fbf"; s.color = "#fff";
  s.display = "flex"; s.alignItems = "center"; s.justifyContent = "center"; s.cursor = "pointer"; s.boxShadow = "0 4px 14px rgba(0,0,0,.25)"; s.zIndex = "2147483000";
  var panel = null;
  function mount() { document.body.appendChild(button); }
  button.addEventListener("click", function () {
    if (!panel) {
      panel = frame();
      var p = panel.style;
      p.position = "fixed"; p.right = "20px"; p.bottom = "88px"; p.width = "min(400px, calc(100vw - 40px))";
      p.height = "min(600px, calc(100vh - 120px))"; p.boxShadow = "0 8px 30px rgba(0,0,0,.25)"; p.zIndex = "2147483000";
      document.body.appendChild(panel);
    } else {
      panel.hidden = !panel.hidden;
    }
    button.setAttribute("aria-expanded", String(!panel.hidden));
  });
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
