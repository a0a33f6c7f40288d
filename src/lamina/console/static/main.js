// The console's router and its two top-level pages: the function list and "Create function".

import { api } from "./api.js";
import { errorText, field, h } from "./dom.js";
import { functionPage } from "./function_page.js";

const page = document.getElementById("page");
const PAGE_SIZE = 25;
export const DEFAULT_ROLE = "arn:aws:iam::000000000000:role/lambda-role";
const RUNTIMES = ["python3.12", "python3.13", "python3.11", "nodejs20.x", "nodejs22.x"];

export function go(path) {
  history.pushState({}, "", path);
  route();
}

document.addEventListener("click", (e) => {
  const link = e.target.closest("a[data-link]");
  if (link && !e.metaKey && !e.ctrlKey && !e.shiftKey && e.button === 0) {
    e.preventDefault();
    go(link.getAttribute("href"));
  }
});
window.addEventListener("popstate", () => route());

export function link(href, text, props = {}) {
  return h("a", { href, "data-link": true, ...props }, text);
}

function show(...children) {
  page.replaceChildren(...children);
}

let routed = 0; // each navigation's number: a page whose data arrives after the next navigation is not shown

export function current() {
  const mine = routed;
  return () => mine === routed;
}

export function route() {
  routed += 1;
  const parts = location.pathname.replace(/^\/console\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "create") return createPage();
  if (parts[0] === "functions" && parts[1]) return functionPage(page, parts[1], parts[2] || "code");
  return listPage();
}

// -- function list ----------------------------------------------------------------------------
function listPage() {
  const params = new URLSearchParams(location.search);
  let start = Number(params.get("start") || 0);
  const search = h("input", {
    type: "search",
    placeholder: "Filter by function name",
    "aria-label": "Filter functions by name",
    testid: "function-search",
    value: params.get("q") || "",
  });
  const body = h("tbody");
  const status = h("p", { class: "muted", "aria-live": "polite", testid: "function-count" });
  const prev = h("button", { type: "button", onclick: () => load(start - PAGE_SIZE) }, "Previous");
  const next = h("button", { type: "button", testid: "page-next", onclick: () => load(start + PAGE_SIZE) }, "Next");
  const error = h("p", { class: "error", role: "alert" });
  let timer = 0;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(0), 200);
  });

  async function load(from) {
    start = Math.max(0, from);
    const q = search.value.trim();
    if (!body.isConnected) return; // the user has moved on to another page
    const url = `?${new URLSearchParams({ q, start: String(start) })}`;
    history.replaceState({}, "", q || start ? url : location.pathname);
    try {
      const data = await api(`functions?${new URLSearchParams({ q, start, limit: PAGE_SIZE })}`);
      if (!body.isConnected) return;
      error.textContent = "";
      body.replaceChildren(
        ...data.functions.map((f) =>
          h(
            "tr",
            {},
            h("td", {}, link(`/console/functions/${encodeURIComponent(f.FunctionName)}`, f.FunctionName)),
            h("td", {}, f.Runtime || f.PackageType || ""),
            h("td", { class: "num" }, `${f.MemorySize} MB`),
            h("td", {}, (f.LastModified || "").replace("T", " ").slice(0, 19)),
          ),
        ),
      );
      if (!data.functions.length) body.append(h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No functions")));
      const last = Math.min(data.total, start + data.functions.length);
      status.textContent = data.total ? `${start + 1}–${last} of ${data.total} functions` : "0 functions";
      prev.disabled = start === 0;
      next.disabled = last >= data.total;
    } catch (err) {
      error.textContent = errorText(err);
    }
  }

  show(
    h(
      "div",
      { class: "bar" },
      h("h1", {}, "Functions"),
      h("button", { type: "button", class: "primary", testid: "create-function", onclick: () => go("/console/create") }, "Create function"),
    ),
    search,
    error,
    h(
      "table",
      { testid: "function-list" },
      h("thead", {}, h("tr", {}, h("th", {}, "Function name"), h("th", {}, "Runtime"), h("th", {}, "Memory"), h("th", {}, "Last modified"))),
      body,
    ),
    h("div", { class: "bar" }, status, h("div", {}, prev, " ", next)),
  );
  load(start);
}

// -- create function --------------------------------------------------------------------------
async function createPage() {
  const name = h("input", { testid: "function-name-input", required: true, maxlength: 64, autocomplete: "off" });
  const runtime = h("select", { testid: "runtime-select" }, RUNTIMES.map((r) => h("option", { value: r }, r)));
  const arch = h("select", { testid: "architecture-select" }, ["x86_64", "arm64"].map((a) => h("option", { value: a }, a)));
  const role = h("input", { testid: "role-input", value: DEFAULT_ROLE });
  const nameField = field("Function name", name, "function-name");
  const runtimeField = field("Runtime", runtime);
  const error = h("p", { class: "error", role: "alert", testid: "create-error" });
  let chosen = "scratch";
  const options = h("div", { class: "choices", role: "radiogroup", "aria-label": "How to start" });
  const choose = (id) => {
    chosen = id;
    for (const b of options.children) b.setAttribute("aria-checked", String(b.dataset.id === id));
    runtimeField.row.hidden = id !== "scratch";
  };
  const option = (id, title, text) =>
    h("button", { type: "button", role: "radio", class: "choice", "data-id": id, testid: id === "scratch" ? "author-from-scratch" : `blueprint-${id}`, onclick: () => choose(id) },
      h("strong", {}, title), h("span", {}, text));
  options.append(option("scratch", "Author from scratch", "Start with a simple Hello World example."));
  show(h("h1", {}, "Create function"), options, h("p", { class: "muted" }, "Loading blueprints…"));
  const stillHere = current();
  try {
    const { blueprints } = await api("blueprints");
    if (!stillHere()) return;
    for (const b of blueprints) options.append(option(b.id, b.title, `${b.description} (${b.runtime})`));
  } catch (err) {
    error.textContent = errorText(err);
  }
  const submit = h("button", { type: "submit", class: "primary", testid: "create-submit" }, "Create function");
  const form = h(
    "form",
    {
      class: "form",
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = nameField.error.textContent = "";
        submit.disabled = true;
        const body = { FunctionName: name.value.trim(), Role: role.value.trim(), Architectures: [arch.value] };
        let blueprint = chosen;
        if (chosen === "scratch") {
          blueprint = runtime.value.startsWith("nodejs") ? "hello-node" : "hello-python";
          body.Runtime = runtime.value;
        }
        try {
          const created = await api(`blueprints/${blueprint}`, { method: "POST", body });
          go(`/console/functions/${encodeURIComponent(created.FunctionName)}`);
        } catch (err) {
          (/name/i.test(err.message) ? nameField.error : error).textContent = errorText(err);
        } finally {
          submit.disabled = false;
        }
      },
    },
    nameField.row,
    runtimeField.row,
    field("Architecture", arch).row,
    field("Execution role", role).row,
    error,
    submit,
  );
  if (!stillHere()) return;
  show(h("h1", {}, "Create function"), options, form);
  choose("scratch");
  name.focus();
}

route();
