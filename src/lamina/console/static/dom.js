// Building the page from data without ever parsing it as HTML: names, values and log lines are text.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "testid") el.dataset.testid = value;
    else if (key === "class") el.className = value;
    else if (key === "value" || key === "checked" || (key in el && typeof value !== "string")) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function field(label, input, testid) {
  const error = h("p", { class: "field-error", role: "alert", testid: testid ? `${testid}-error` : undefined });
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return { row: h("div", { class: "field" }, h("label", { for: id }, label), input, error), error };
}

export function errorText(err) {
  return err && err.code ? `${err.code}: ${err.message}` : String(err && err.message ? err.message : err);
}
