// Tool sources: register an OpenAPI 3 spec (a URL or pasted JSON; an auth header stored
// encrypted and never shown again) or an MCP server (a stdio command or a URL); list each
// source's tools; delete. Agents and workflow tool nodes use these tools as source__tool.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { act, errorBox, field, fmtTime, h, showError, table, toast } from "./ui.js";
import { useStyles } from "./appkit.js";

// "Name: value" lines → an object (headers); "NAME=value" lines with sep "=" (environment).
function pairs(text, sep) {
  const out = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf(sep);
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

function summary(s) {
  const c = s.config || {};
  if (s.kind === "openapi") return c.base_url || c.spec_url || "";
  return c.command ? [c.command, ...(c.args || [])].join(" ") : c.url || "";
}

export async function toolSourcesPage(view) {
  useStyles();
  const err = errorBox();
  const listBox = h("div");
  view.replaceChildren(h("p.crumbs", h("a", { href: "#/apps" }, t("nav_apps"))), h("h1", t("tool_sources")),
    h("p.muted", t("tool_sources_hint")), err, h("section.card", { "aria-labelledby": "src-h" }, h("h2", { id: "src-h" }, t("registered")), listBox));

  async function drawList() {
    let sources;
    try { sources = await api("GET", "/v1/tool-sources"); } catch (e) { showError(e, err); return; }
    listBox.replaceChildren(sources.length ? table([t("name"), t("app_kind"), t("endpoint"), t("secrets"), t("created"), t("actions")],
      sources.flatMap((s) => {
        const tools = h("td.tool-list", { colSpan: 6, hidden: true });
        const row = h("tr", { "data-source": s.name }, h("td", h("strong", s.name)), h("td", h("span.kind", s.kind === "mcp" ? "MCP" : "OpenAPI")),
          h("td.clip", h("code", summary(s))),
          h("td", s.secret_names.length ? s.secret_names.map((n) => h("span.tag", `${n}: ${t("stored_encrypted")}`)) : "—"),
          h("td", fmtTime(s.created_at)),
          h("td.actions",
            h("button.ghost.small", { type: "button", "aria-expanded": "false", onclick: (e) => {
              const b = e.currentTarget;
              const open = b.getAttribute("aria-expanded") === "true";
              b.setAttribute("aria-expanded", String(!open));
              tools.hidden = open;
              if (!open) act(b, async () => {
                tools.replaceChildren(h("span.muted", t("loading_tools")));
                try {
                  const list = await api("GET", `/v1/tool-sources/${encodeURIComponent(s.name)}/tools`);
                  tools.replaceChildren(list.length ? h("ul.tools", list.map((x) => h("li", h("code", x.name), x.description ? ` — ${x.description}` : "")))
                    : h("p.muted", t("no_tools")));
                } catch (e2) { tools.replaceChildren(h("p.error", `${t("failed_action")}: ${e2.message}`)); }
              });
            } }, t("show_tools")),
            h("button.danger.small", { type: "button", onclick: (e) => act(e.currentTarget, async () => {
              if (!confirm(t("confirm_delete", s.name))) return;
              await api("DELETE", `/v1/tool-sources/${encodeURIComponent(s.name)}`);
              toast(t("deleted"));
              await drawList();
            }, err) }, t("delete"))));
        return [row, h("tr.tools-row", { "data-tools": s.name }, tools)];
      }), t("registered")) : h("p.muted", t("no_sources")));
  }

  // the registration form: the fields of the chosen kind and transport only
  const kind = h("select", { name: "kind" }, h("option", { value: "openapi" }, "OpenAPI 3"), h("option", { value: "mcp" }, "MCP"));
  const name = h("input", { type: "text", name: "name", required: true, maxLength: 32, pattern: "[A-Za-z0-9\\-]+" });
  const specFrom = h("select", { name: "spec_from" }, h("option", { value: "url" }, t("spec_url")), h("option", { value: "paste" }, t("spec_paste")));
  const specUrl = h("input", { type: "url", name: "spec_url", placeholder: "https://api.example.com/openapi.json" });
  const spec = h("textarea", { name: "spec", rows: 8, spellcheck: false, placeholder: '{"openapi": "3.0.0", …}' });
  const baseUrl = h("input", { type: "url", name: "base_url", placeholder: t("base_url_ph") });
  const authName = h("input", { type: "text", name: "auth_name", value: "Authorization", autocomplete: "off" });
  const authValue = h("input", { type: "password", name: "auth_value", autocomplete: "new-password", placeholder: "Bearer …" });
  const transport = h("select", { name: "transport" }, h("option", { value: "stdio" }, t("mcp_stdio")), h("option", { value: "url" }, t("mcp_http")));
  const command = h("input", { type: "text", name: "command", placeholder: "npx", spellcheck: false });
  const args = h("textarea", { name: "args", rows: 3, spellcheck: false, placeholder: "-y\n@modelcontextprotocol/server-everything" });
  const env = h("textarea", { name: "env", rows: 2, spellcheck: false, placeholder: "API_TOKEN=…" });
  const url = h("input", { type: "url", name: "url", placeholder: "https://mcp.example.com/mcp" });
  const headers = h("textarea", { name: "headers", rows: 2, spellcheck: false, placeholder: "Authorization: Bearer …" });
  const replace = h("input", { type: "checkbox", name: "replace" });

  const openapiPart = h("div.part", h("div.grid", field(t("spec_from"), specFrom), field(t("base_url"), baseUrl, t("base_url_hint"))),
    h("div.spec-url", field(t("spec_url"), specUrl)), h("div.spec-paste", field(t("spec_json"), spec)),
    h("div.grid", field(t("auth_header"), authName), field(t("auth_value"), authValue, t("secret_hint"))));
  const mcpPart = h("div.part", field(t("mcp_transport"), transport),
    h("div.mcp-stdio", field(t("mcp_command"), command, t("mcp_command_hint")), field(t("mcp_args"), args, t("one_per_line")),
      field(t("mcp_env"), env, t("secret_lines_hint"))),
    h("div.mcp-url", field(t("mcp_url"), url), field(t("mcp_headers"), headers, t("secret_lines_hint"))));
  const sync = () => {
    const open = kind.value === "openapi";
    openapiPart.hidden = !open;
    mcpPart.hidden = open;
    openapiPart.querySelector(".spec-url").hidden = specFrom.value !== "url";
    openapiPart.querySelector(".spec-paste").hidden = specFrom.value !== "paste";
    mcpPart.querySelector(".mcp-stdio").hidden = transport.value !== "stdio";
    mcpPart.querySelector(".mcp-url").hidden = transport.value !== "url";
  };
  for (const el of [kind, specFrom, transport]) el.addEventListener("change", sync);
  const formErr = errorBox();
  const add = h("button.primary", { type: "submit" }, t("register"));
  const form = h("form.card.source-form", { "aria-labelledby": "reg-h" }, h("h2", { id: "reg-h" }, t("register_source")),
    h("div.grid", field(t("source_name"), name, t("source_name_hint")), field(t("app_kind"), kind)),
    openapiPart, mcpPart, h("label.check", replace, " ", t("replace_existing")), formErr, add);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(add, async () => {
      const body = { name: name.value.trim(), kind: kind.value, replace: replace.checked };
      if (kind.value === "openapi") {
        if (specFrom.value === "url") body.spec_url = specUrl.value.trim();
        else {
          try { body.spec = JSON.parse(spec.value); } catch { throw new Error(t("bad_json_text")); }
        }
        if (baseUrl.value.trim()) body.base_url = baseUrl.value.trim();
        if (authValue.value) body.auth_headers = { [authName.value.trim() || "Authorization"]: authValue.value };
      } else if (transport.value === "stdio") {
        body.command = command.value.trim();
        body.args = args.value.split("\n").map((x) => x.trim()).filter(Boolean);
        body.env = pairs(env.value, "=");
      } else {
        body.url = url.value.trim();
        body.headers = pairs(headers.value, ":");
      }
      await api("POST", "/v1/tool-sources", body);
      // secrets leave the page once sent
      for (const el of [authValue, env, headers]) el.value = "";
      toast(t("source_added", body.name));
      await drawList();
    }, formErr);
  });
  sync();
  view.append(form);
  await drawList();
}
