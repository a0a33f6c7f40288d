// The console's router and its top-level pages: the function list, "Create function" and, under
// `lamina serve --auth sigv4`, the sign-in page (an access key id and secret make a session cookie).

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

let auth = null; // the console API's /session answer, asked once per page load

export async function route() {
  routed += 1;
  if (auth === null) {
    try {
      auth = await api("session");
    } catch (err) {
      auth = { auth: "none", signedIn: true };
      show(h("p", { class: "error", role: "alert" }, errorText(err)));
      return;
    }
    whoIsSignedIn();
  }
  if (!auth.signedIn) return signInPage();
  const parts = location.pathname.replace(/^\/console\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "create") return createPage();
  if (parts[0] === "functions" && parts[1]) return functionPage(page, parts[1], parts[2] || "code");
  return listPage();
}

window.addEventListener("lamina-sign-in", () => {
  if (auth && auth.signedIn && auth.auth === "sigv4") {
    auth = { auth: "sigv4", signedIn: false };
    routed += 1; // what the page was loading is not shown over the sign-in form
    whoIsSignedIn();
    signInPage();
  }
});

function whoIsSignedIn() {
  const who = document.getElementById("who");
  if (!auth.signedIn || !auth.principal) return who.replaceChildren();
  const out = h("button", { type: "button", testid: "sign-out", onclick: async () => {
    await api("session", { method: "DELETE" }).catch(() => {});
    auth = { auth: "sigv4", signedIn: false };
    whoIsSignedIn();
    go("/console/");
  } }, "Sign out");
  who.replaceChildren(h("span", {}, auth.principal.split(":").pop()), out);
}

// -- sign in (only under --auth sigv4) ---------------------------------------------------------
function signInPage() {
  const key = h("input", { testid: "sign-in-key", autocomplete: "username", spellcheck: "false", required: true });
  const secret = h("input", { type: "password", testid: "sign-in-secret", autocomplete: "current-password", required: true });
  const keyField = field("Access key ID", key);
  const error = h("p", { class: "error", role: "alert", testid: "sign-in-error" });
  const submit = h("button", { type: "submit", class: "primary", testid: "sign-in-submit" }, "Sign in");
  show(
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "This Lamina checks every request's signature (--auth sigv4). Sign in with the access key of an IAM user or the account's root; what you may see and change is what its policies allow."),
    h("form", { class: "form signin", onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = "";
      submit.disabled = true;
      try {
        auth = await api("session", { method: "POST", body: { accessKeyId: key.value.trim(), secretAccessKey: secret.value } });
        secret.value = "";
        whoIsSignedIn();
        route();
      } catch (err) {
        error.textContent = errorText(err);
      } finally {
        submit.disabled = false;
      }
    } }, keyField.row, field("Secret access key", secret).row, error, submit),
  );
  key.focus();
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
  const error = h("p", { class: "error", role: "alert", testid: "list-error" });
  const metricsError = h("p", { class: "error", role: "alert", testid: "list-metrics-error" });
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
            h("td", { class: "num", testid: "invocations-1h" }, f.invocations === undefined ? "–" : String(f.invocations)),
            h("td", { class: "num", testid: "errors-1h" }, f.errors === undefined ? "–" : String(f.errors)),
          ),
        ),
      );
      metricsError.textContent = data.metricsError ? `Invocations and errors: ${data.metricsError}` : "";
      if (!data.functions.length) body.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No functions")));
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
    metricsError,
    h(
      "table",
      { testid: "function-list" },
      h("thead", {}, h("tr", {}, h("th", {}, "Function name"), h("th", {}, "Runtime"), h("th", {}, "Memory"), h("th", {}, "Last modified"),
        h("th", {}, "Invocations (1 h)"), h("th", {}, "Errors (1 h)"))),
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
