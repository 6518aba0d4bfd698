// Eval sets from a spreadsheet: upload a CSV, TSV or XLSX table (headers in English or Chinese);
// rows that cannot be read are listed by their row number, the rest is imported.
import { upload } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { act, errorBox, field, h, toast } from "./ui.js";

addStrings({
  en: {
    up_title: "Upload a table (CSV or Excel)", up_file: "Table file",
    up_hint: "Columns: question, reference_answer, expected_sources (or 问题, 参考答案, 预期来源); several values separated by |.",
    up_name: "Set name (default: the file name)", up_replace: "Replace a set of the same name", up_go: "Upload",
    up_done: "Imported {x} questions", up_skipped: "Rows left out:", up_row: "row {x}",
  },
  zh: {
    up_title: "上传表格（CSV 或 Excel）", up_file: "表格文件",
    up_hint: "列：问题、参考答案、预期来源（或 question, reference_answer, expected_sources）；多个值用 | 分隔。",
    up_name: "评测集名称（默认取文件名）", up_replace: "替换同名评测集", up_go: "上传",
    up_done: "已导入 {x} 个问题", up_skipped: "未导入的行：", up_row: "第 {x} 行",
  },
});

export function tableUploadForm(created) {
  const file = h("input", { type: "file", id: "set-table", required: true,
    accept: ".csv,.tsv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  const name = h("input", { type: "text", id: "set-table-name", maxLength: 128 });
  const replace = h("input", { type: "checkbox", id: "set-table-replace" });
  const report = h("div.upload-report", { role: "status" });
  const err = errorBox();
  const btn = h("button.primary", { type: "submit" }, t("up_go"));
  const form = h("form.table-set", h("h3", t("up_title")),
    h("div.grid", field(t("up_file"), file, t("up_hint")), field(t("up_name"), name)),
    h("label.check", replace, " ", t("up_replace")), err, h("div.row", btn), report);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(btn, async () => {
      const data = new FormData();
      data.append("file", file.files[0]);
      if (name.value.trim()) data.append("name", name.value.trim());
      if (replace.checked) data.append("replace", "true");
      const made = await upload("/v1/evals/sets/upload", data, () => {});
      toast(t("up_done", made.size));
      report.replaceChildren(h("p", t("up_done", made.size), ` → ${made.name}`),
        made.skipped.length ? h("div", h("p.error", t("up_skipped")),
          h("ul.skipped", made.skipped.map((s) => h("li", { "data-row": s.row }, `${t("up_row", s.row)}: ${s.error}`)))) : null);
      if (!made.skipped.length) await created();
    }, err);
  });
  return form;
}
