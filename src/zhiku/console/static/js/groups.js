// Groups of readers (admin): create, rename, delete; add and remove members (users and API
// keys). Documents restricted to a group are read only by its members and administrators.
import { api } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { act, errorBox, field, h, table, toast } from "./ui.js";

addStrings({
  en: {
    groups_title: "Groups of readers",
    groups_intro: "A document or a source restricted to groups is read only by their members and the workspace's administrators; other documents are read by everyone in the workspace.",
    groups_new: "New group", groups_name: "Name", groups_description: "Description",
    groups_create: "Create group", groups_members: "Members", groups_none: "No groups yet.",
    groups_add_member: "Add member", groups_pick: "A user or an API key",
    groups_add: "Add", groups_remove: "Remove", groups_rename: "Rename",
    groups_delete: "Delete group", groups_confirm_delete: "Delete group {x}? Its documents stay restricted (to administrators if no other group is left).",
    groups_user: "user", groups_key: "key", groups_no_members: "No members.",
    groups_created: "Group {x} created", groups_new_name: "New name for {x}",
  },
  zh: {
    groups_title: "读者权限组",
    groups_intro: "限定给权限组的文档或数据源只有组内成员和工作区管理员能读到；其他文档工作区内所有人都能读到。",
    groups_new: "新建权限组", groups_name: "名称", groups_description: "说明",
    groups_create: "创建权限组", groups_members: "成员", groups_none: "还没有权限组。",
    groups_add_member: "添加成员", groups_pick: "用户或 API 密钥",
    groups_add: "添加", groups_remove: "移除", groups_rename: "重命名",
    groups_delete: "删除权限组", groups_confirm_delete: "删除权限组 {x}？它限定的文档仍然受限（没有其他组时只有管理员能读）。",
    groups_user: "用户", groups_key: "密钥", groups_no_members: "没有成员。",
    groups_created: "已创建权限组 {x}", groups_new_name: "{x} 的新名称",
  },
});

function memberList(group, users, keys, reload, err) {
  const email = new Map(users.map((u) => [u.id, u.email]));
  const keyName = new Map(keys.map((k) => [k.id, `${k.name || k.prefix} (${k.prefix})`]));
  const items = [
    ...group.users.map((id) => ["users", id, `${t("groups_user")}: ${email.get(id) || `#${id}`}`]),
    ...group.keys.map((id) => ["keys", id, `${t("groups_key")}: ${keyName.get(id) || `#${id}`}`]),
  ];
  if (!items.length) return h("p.muted", t("groups_no_members"));
  return h("ul.members", items.map(([kind, id, text]) => h("li", { "data-member": text }, text, " ",
    h("button.ghost", { type: "button", onclick: (e) => act(e.currentTarget, async () => {
      await api("DELETE", `/v1/groups/${group.id}/members/${kind}/${id}`);
      await reload();
    }, err) }, t("groups_remove")))));
}

function groupCard(group, users, keys, reload) {
  const err = errorBox();
  const pick = h("select", { "aria-label": t("groups_pick") },
    h("option", { value: "" }, t("groups_pick")),
    users.filter((u) => !group.users.includes(u.id)).map((u) => h("option", { value: `user:${u.id}` }, `${t("groups_user")}: ${u.email}`)),
    keys.filter((k) => !k.revoked_at && !group.keys.includes(k.id)).map((k) => h("option", { value: `key:${k.id}` }, `${t("groups_key")}: ${k.name || k.prefix} (${k.prefix})`)));
  const add = h("button", { type: "button", onclick: (e) => pick.value && act(e.currentTarget, async () => {
    const [kind, id] = pick.value.split(":");
    await api("POST", `/v1/groups/${group.id}/members`, { [`${kind}_id`]: Number(id) });
    await reload();
  }, err) }, t("groups_add"));
  const rename = h("button.ghost", { type: "button", onclick: (e) => {
    const name = prompt(t("groups_new_name", group.name), group.name);
    if (name && name.trim() && name.trim() !== group.name) {
      act(e.currentTarget, async () => { await api("PATCH", `/v1/groups/${group.id}`, { name: name.trim() }); await reload(); }, err);
    }
  } }, t("groups_rename"));
  const del = h("button.danger", { type: "button", onclick: (e) => {
    if (!confirm(t("groups_confirm_delete", group.name))) return;
    act(e.currentTarget, async () => { await api("DELETE", `/v1/groups/${group.id}`); await reload(); }, err);
  } }, t("groups_delete"));
  return h("section.card.group", { "data-group": group.name },
    h("div.row.between", h("h2", group.name), h("div.row", rename, del)),
    group.description ? h("p.muted", group.description) : null,
    h("h3", t("groups_members")), memberList(group, users, keys, reload, err),
    h("div.row", pick, add), err);
}

export async function groupsPage(view) {
  const err = errorBox();
  const list = h("div.groups");
  const name = h("input", { id: "group-name", name: "name", required: true, maxLength: 100 });
  const description = h("input", { id: "group-description", name: "description", maxLength: 1000 });
  const form = h("form.grid.controls", { id: "group-form" },
    field(t("groups_name"), name), field(t("groups_description"), description),
    h("div.row", h("button.primary", { type: "submit" }, t("groups_create"))));
  const reload = async () => {
    const [groups, users, keys] = await Promise.all([
      api("GET", "/v1/groups"), api("GET", "/v1/users"), api("GET", "/v1/keys")]);
    list.replaceChildren(...(groups.length ? groups.map((g) => groupCard(g, users, keys, reload))
      : [h("p.muted", t("groups_none"))]));
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(form.querySelector("button"), async () => {
      const made = await api("POST", "/v1/groups", { name: name.value.trim(), description: description.value.trim() });
      toast(t("groups_created", made.name));
      form.reset();
      await reload();
    }, err);
  });
  view.replaceChildren(h("h1", t("groups_title")), h("p.muted", t("groups_intro")), err,
    h("section.card", { "aria-labelledby": "group-new" }, h("h2", { id: "group-new" }, t("groups_new")), form),
    list);
  await act(null, reload, err);
}

