// A small code editor: a textarea over a highlighted copy of its text (no library, no build step).
// The highlighting only colours tokens; the textarea keeps native editing, undo and keyboard behaviour.

import { h } from "./dom.js";

const KEYWORDS = new Set(
  ("and as assert async await break class const continue def del elif else except export false finally for from " +
    "function global if import in is lambda let new nonlocal none not null or pass raise return self this throw " +
    "true try typeof var while with yield True False None").split(" "),
);
const TOKEN = /(#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\/)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\b(\d+(?:\.\d+)?)\b|([A-Za-z_$][\w$]*)/g;

export function highlight(pre, text, language) {
  pre.replaceChildren();
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    if (m.index > last) pre.append(text.slice(last, m.index));
    let kind = null;
    if (m[1]) kind = m[1].startsWith("#") && language !== "python" ? null : "comment";
    else if (m[2]) kind = "string";
    else if (m[3]) kind = "number";
    else if (KEYWORDS.has(m[4])) kind = "keyword";
    pre.append(kind ? h("span", { class: `tok-${kind}` }, m[0]) : m[0]);
    last = m.index + m[0].length;
  }
  pre.append(text.slice(last) + "\n");
}

export function codeEditor(text, { language = "python", testid = "code-editor", label = "Code" } = {}) {
  const pre = h("pre", { class: "editor-view", "aria-hidden": "true" });
  const area = h("textarea", {
    class: "editor-input",
    spellcheck: "false",
    autocapitalize: "off",
    "aria-label": label,
    value: text,
  });
  const wrap = h("div", { class: "editor", testid }, pre, area);
  const sync = () => {
    highlight(pre, area.value, language);
    pre.scrollTop = area.scrollTop;
    pre.scrollLeft = area.scrollLeft;
  };
  area.addEventListener("input", sync);
  area.addEventListener("scroll", () => {
    pre.scrollTop = area.scrollTop;
    pre.scrollLeft = area.scrollLeft;
  });
  area.addEventListener("keydown", (e) => {
    // Tab indents; Escape then Tab leaves the editor (keyboard users are never trapped)
    if (e.key === "Tab" && !e.shiftKey && !area.dataset.escaped) {
      e.preventDefault();
      area.setRangeText("    ", area.selectionStart, area.selectionEnd, "end");
      sync();
    }
    if (e.key === "Escape") area.dataset.escaped = "1";
    else if (e.key !== "Tab") delete area.dataset.escaped;
  });
  sync();
  return { element: wrap, get value() { return area.value; }, set value(v) { area.value = v; sync(); }, area };
}
