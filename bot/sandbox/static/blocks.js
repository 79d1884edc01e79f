// Block Kit to accessible DOM: buttons are <button>s, selects are labelled <select>s, inputs
// have <label>s. Text goes through Mrkdwn (escaped) or textContent, never raw into HTML.
// Exposes window.BlockKit.
"use strict";

(function () {
  const M = window.Mrkdwn;
  let counter = 0;
  const uid = (prefix) => `${prefix}-${++counter}`;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "html") node.innerHTML = value; // only Mrkdwn output, which is escaped
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  const textOf = (obj) => (obj && typeof obj === "object" ? String(obj.text || "") : "");

  function textHtml(obj, ctx) {
    if (!obj) return "";
    return obj.type === "mrkdwn" ? M.mrkdwn(obj.text, ctx.names) : M.plain(obj.text);
  }

  function blockId(block, index) {
    return block.block_id || `emulator-block-${index}`;
  }

  function options(element) {
    const all = [...(element.options || [])];
    for (const group of element.option_groups || []) all.push(...(group.options || []));
    return all;
  }

  function confirmThen(confirm, go) {
    if (!confirm) return go();
    const title = textOf(confirm.title) || "Are you sure?";
    const titleId = uid("confirm");
    const close = () => backdrop.remove();
    const backdrop = el("div", { class: "backdrop" },
      el("div", { role: "alertdialog", "aria-modal": "true", "aria-labelledby": titleId, class: "modal confirm" },
        el("h2", { id: titleId, text: title }),
        el("div", { class: "confirm-text", html: textHtml(confirm.text, { names: window.BlockKit.names }) }),
        el("footer", {},
          el("button", { type: "button", text: textOf(confirm.deny) || "Cancel", onclick: close }),
          el("button", {
            type: "button", class: `btn ${confirm.style === "danger" ? "danger" : "primary"}`,
            text: textOf(confirm.confirm) || "Yes", onclick: () => { close(); go(); },
          }))));
    document.body.append(backdrop);
    backdrop.querySelector("footer button:last-child").focus();
  }

  // -- interactive elements ---------------------------------------------------------------

  function button(element, id, ctx) {
    const style = element.style ? ` ${element.style}` : "";
    return el("button", {
      type: "button", class: `btn${style}`, text: textOf(element.text),
      "data-action-id": element.action_id,
      onclick: () => {
        // A link button opens its page; only web addresses, never javascript: and the like.
        if (element.url && /^https?:/i.test(element.url)) window.open(element.url, "_blank", "noopener");
        confirmThen(element.confirm, () => ctx.act(element, id, element.value));
      },
    });
  }

  function selectElement(element, id, ctx, label, inInput) {
    const kind = element.type;
    const multi = kind.startsWith("multi_");
    const select = el("select", { "aria-label": inInput ? null : label, "data-kind": kind, multiple: multi });
    if (!multi) select.append(el("option", { value: "", text: textOf(element.placeholder) || "Select…" }));
    let initial = [];
    if (kind.endsWith("users_select")) {
      for (const [userId, user] of Object.entries(ctx.names.users)) {
        if (user.is_bot) continue;
        select.append(el("option", { value: userId, text: user.real_name }));
      }
      initial = element.initial_users || (element.initial_user ? [element.initial_user] : []);
    } else if (kind.endsWith("conversations_select") || kind.endsWith("channels_select")) {
      for (const [channelId, name] of Object.entries(ctx.names.channels)) {
        select.append(el("option", { value: channelId, text: `#${name}` }));
      }
      initial = element.initial_channels || element.initial_conversations ||
        [element.initial_channel || element.initial_conversation].filter(Boolean);
    } else {
      const groups = element.option_groups || [{ options: element.options || [] }];
      for (const group of groups) {
        const parent = group.label ? el("optgroup", { label: textOf(group.label) }) : select;
        for (const option of group.options || []) parent.append(el("option", { value: option.value, text: textOf(option.text) }));
        if (parent !== select) select.append(parent);
      }
      initial = (element.initial_options || [element.initial_option]).filter(Boolean).map((o) => o.value);
    }
    for (const option of select.options) option.selected = initial.includes(option.value);
    if (!inInput) {
      select.addEventListener("change", () => {
        if (select.value) confirmThen(element.confirm, () => ctx.act(element, id, select.value));
      });
    }
    return select;
  }

  function overflow(element, id, ctx) {
    const menuId = uid("menu");
    const menu = el("ul", { role: "menu", id: menuId, class: "menu", hidden: true });
    const toggle = el("button", {
      type: "button", class: "btn overflow", "aria-label": "More options", "aria-haspopup": "menu",
      "aria-controls": menuId, "aria-expanded": "false", text: "\u22ee",
      onclick: () => {
        const open = menu.hidden;
        menu.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
        if (open) menu.querySelector("[role=menuitem]")?.focus();
      },
    });
    for (const option of element.options || []) {
      menu.append(el("li", { role: "none" }, el("button", {
        type: "button", role: "menuitem", text: textOf(option.text),
        onclick: () => { menu.hidden = true; confirmThen(element.confirm, () => ctx.act(element, id, option.value)); },
      })));
    }
    return el("span", { class: "overflow-wrap" }, toggle, menu);
  }

  function imageElement(element) {
    return el("img", { src: element.image_url, alt: element.alt_text || "", class: "inline-image" });
  }

  function interactive(element, id, ctx, label) {
    switch (element.type) {
      case "button": return button(element, id, ctx);
      case "static_select": case "users_select": case "conversations_select": case "channels_select":
        return selectElement(element, id, ctx, textOf(element.placeholder) || label || "Select", false);
      case "overflow": return overflow(element, id, ctx);
      case "image": return imageElement(element);
      default:
        return el("span", { class: "unsupported", text: `[${element.type} is not rendered by the sandbox]` });
    }
  }

  // -- input blocks (modals) --------------------------------------------------------------

  function inputControl(element, controlId, saved) {
    const kind = element.type;
    let control;
    if (kind === "plain_text_input") {
      control = element.multiline
        ? el("textarea", { rows: 3 })
        : el("input", { type: "text" });
      control.value = element.initial_value || "";
      if (element.max_length) control.maxLength = element.max_length;
    } else if (["number_input", "email_text_input", "url_text_input", "datepicker", "timepicker"].includes(kind)) {
      const types = { number_input: "number", email_text_input: "email", url_text_input: "url", datepicker: "date", timepicker: "time" };
      control = el("input", { type: types[kind] });
      control.value = element.initial_value || element.initial_date || element.initial_time || "";
    } else if (kind === "radio_buttons" || kind === "checkboxes") {
      const type = kind === "radio_buttons" ? "radio" : "checkbox";
      const initial = (element.initial_options || [element.initial_option]).filter(Boolean).map((o) => o.value);
      control = el("div", { role: type === "radio" ? "radiogroup" : "group", class: "choices" });
      for (const option of element.options || []) {
        const box = el("input", { type, name: controlId, value: option.value });
        box.checked = initial.includes(option.value);
        control.append(el("label", {}, box, document.createTextNode(" " + textOf(option.text))));
      }
    } else if (kind.endsWith("select")) {
      control = selectElement(element, null, { names: window.BlockKit.names }, null, true);
    } else {
      control = el("span", { class: "unsupported", text: `[${kind} is not rendered by the sandbox]` });
    }
    control.id = controlId;
    control.dataset.kind = kind;
    control.dataset.actionId = element.action_id || "";
    if (element.placeholder && "placeholder" in control) control.placeholder = textOf(element.placeholder);
    if (saved !== undefined) setValue(control, saved);
    return control;
  }

  function valueOf(control) {
    const kind = control.dataset.kind;
    if (kind === "radio_buttons") return control.querySelector("input:checked")?.value ?? null;
    if (kind === "checkboxes") return [...control.querySelectorAll("input:checked")].map((b) => b.value);
    if (control.tagName === "SELECT" && control.multiple) return [...control.selectedOptions].map((o) => o.value);
    if (kind === "number_input") return control.value === "" ? null : control.value;
    return control.value === "" ? null : control.value;
  }

  function setValue(control, value) {
    if (control.dataset.kind === "radio_buttons" || control.dataset.kind === "checkboxes") {
      const wanted = Array.isArray(value) ? value : [value];
      for (const box of control.querySelectorAll("input")) box.checked = wanted.includes(box.value);
    } else if (control.tagName === "SELECT" && control.multiple) {
      for (const option of control.options) option.selected = (value || []).includes(option.value);
    } else if ("value" in control) {
      control.value = value ?? "";
    }
  }

  function input(block, id, ctx) {
    const controlId = uid("input");
    const label = textOf(block.label);
    const saved = ctx.saved ? ctx.saved[id] : undefined;
    const control = inputControl(block.element || {}, controlId, saved);
    const wrap = el("div", { class: "input-block", "data-block-id": id },
      el("label", { for: controlId, text: label + (block.optional ? " (optional)" : "") }),
      control);
    if (control.getAttribute("role")) control.setAttribute("aria-label", label);
    if (block.hint) wrap.append(el("p", { class: "hint", html: textHtml(block.hint, ctx) }));
    return wrap;
  }

  function collect(form) {
    const values = {};
    for (const wrap of form.querySelectorAll(".input-block")) {
      const control = wrap.querySelector("[data-kind]");
      if (control) values[wrap.dataset.blockId] = valueOf(control);
    }
    return values;
  }

  // Slack's response_action "errors": a message under each named block, read with its input.
  function showErrors(form, errors) {
    for (const old of form.querySelectorAll(".field-error")) old.remove();
    for (const control of form.querySelectorAll("[aria-invalid]")) {
      control.removeAttribute("aria-invalid");
      control.removeAttribute("aria-describedby");
    }
    let first = null;
    for (const [id, message] of Object.entries(errors || {})) {
      const wrap = form.querySelector(`.input-block[data-block-id="${CSS.escape(id)}"]`);
      if (!wrap) continue;
      const errorId = uid("error");
      wrap.append(el("p", { class: "field-error", id: errorId, role: "alert", text: String(message) }));
      const control = wrap.querySelector("[data-kind]");
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", errorId);
      first = first || control;
    }
    if (first) first.focus();
  }

  // -- blocks ----------------------------------------------------------------------------

  function block(b, index, ctx) {
    const id = blockId(b, index);
    switch (b.type) {
      case "header":
        return el("h3", { class: "bk-header", html: M.plain(textOf(b.text)) });
      case "divider":
        return el("hr", { class: "bk-divider" });
      case "section": {
        const section = el("div", { class: "bk-section" });
        const main = el("div", { class: "bk-section-main" });
        if (b.text) main.append(el("div", { class: "bk-text", html: textHtml(b.text, ctx) }));
        if (b.fields) {
          main.append(el("div", { class: "bk-fields" },
            ...b.fields.map((f) => el("div", { class: "bk-field", html: textHtml(f, ctx) }))));
        }
        section.append(main);
        if (b.accessory) section.append(el("div", { class: "bk-accessory" }, interactive(b.accessory, id, ctx, textOf(b.text))));
        return section;
      }
      case "context":
        return el("div", { class: "bk-context" }, ...(b.elements || []).map((e) =>
          e.type === "image" ? imageElement(e) : el("span", { html: textHtml(e, ctx) })));
      case "image":
        return el("figure", { class: "bk-image" },
          el("img", { src: b.image_url, alt: b.alt_text || "" }),
          b.title ? el("figcaption", { text: textOf(b.title) }) : null);
      case "actions":
        return el("div", { class: "bk-actions", role: "group" }, ...(b.elements || []).map((e) => interactive(e, id, ctx)));
      case "input":
        return input(b, id, ctx);
      default:
        return el("div", { class: "unsupported", text: `[${b.type} block is not rendered by the sandbox]` });
    }
  }

  function render(blocks, ctx) {
    const wrap = el("div", { class: "blocks" });
    (blocks || []).forEach((b, index) => wrap.append(block(b, index, ctx)));
    return wrap;
  }

  // Legacy attachments: a coloured bar with text and fields.
  function attachments(list, ctx) {
    return (list || []).map((a) => el("div", { class: "attachment", style: `border-color:${/^#?[0-9a-f]{3,6}$/i.test(a.color || "") ? (a.color.startsWith("#") ? a.color : "#" + a.color) : "#ddd"}` },
      a.title ? el("strong", { text: a.title }) : null,
      a.text ? el("div", { html: M.mrkdwn(a.text, ctx.names) }) : null,
      a.blocks ? render(a.blocks, ctx) : null,
      ...(a.fields || []).map((f) => el("div", { class: "bk-field" }, el("strong", { text: f.title || "" }), el("div", { html: M.mrkdwn(f.value || "", ctx.names) })))));
  }

  window.BlockKit = { render, attachments, collect, showErrors, el, names: null };
})();
