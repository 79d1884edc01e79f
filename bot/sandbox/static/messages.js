// One message as Slack draws it: author, time, blocks, files, reactions, and its hover menu
// (reactions, the app's message shortcuts, pin, reply in thread). Exposes window.Messages,
// a factory given the app's state and actions.
"use strict";

(function () {
  const { el, render, attachments } = window.BlockKit;
  const M = window.Mrkdwn;
  const REACTIONS = ["pushpin", "eyes", "white_check_mark", "+1", "fire"];

  window.Messages = function (app) {
    function author(message) {
      if (message.user === app.state().bot.id) return "Klaxon";
      if (message.is_bot) return message.bot_name || "App";
      const user = app.state().users[message.user];
      return user ? user.real_name : message.user || "Slack";
    }

    function time(ts) {
      const when = new Date(Number(ts) * 1000);
      return el("time", { datetime: when.toISOString(), text: when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) });
    }

    function messageItem(message, inThread) {
      const surface = message.ephemeral
        ? { kind: "ephemeral", ts: message.ts }
        : { kind: "message", channel: app.state().shown.id, ts: message.ts };
      const ctx = { names: app.names(), act: (element, blockId, value) => app.act(surface, element, blockId, value) };
      const system = message.subtype && ["channel_topic", "channel_join", "channel_name", "channel_purpose"].includes(message.subtype);
      const body = el("div", { class: "message-body" },
        el("div", { class: "meta" },
          el("strong", { class: "author", text: author(message) }),
          message.is_bot ? el("span", { class: "app-badge", text: "APP" }) : null,
          time(message.ts),
          message.edited ? el("span", { class: "edited", text: "(edited)" }) : null,
          message.pinned ? el("span", { class: "pinned", text: "\ud83d\udccc Pinned" }) : null),
        message.blocks.length
          ? render(message.blocks, ctx)
          : el("div", { class: system ? "text system" : "text", html: M.mrkdwn(message.text, app.names()) }),
        ...attachments(message.attachments, ctx),
        ...message.files.map(fileCard),
        reactionsRow(message),
        message.ephemeral ? el("p", { class: "ephemeral-note", text: "Only visible to you" }) : null,
        !inThread && message.replies.length
          ? el("button", { type: "button", class: "link replies", text: `${message.replies.length} ${message.replies.length === 1 ? "reply" : "replies"}`, onclick: () => app.openThread(message.ts) })
          : null);
      const classes = ["message", message.ephemeral ? "ephemeral" : "", message.pinned ? "is-pinned" : ""].join(" ");
      return el("li", { class: classes, "aria-label": `${author(message)}${message.pinned ? ", pinned" : ""}` },
        el("div", { class: "avatar", "aria-hidden": "true", text: author(message).slice(0, 1) }),
        body,
        message.ephemeral ? null : hoverActions(message, inThread));
    }

    function reactionsRow(message) {
      if (!message.reactions.length) return null;
      return el("div", { class: "reactions" }, ...message.reactions.map((r) => el("button", {
        type: "button", class: r.users.includes(app.me()) ? "reaction mine" : "reaction",
        "aria-pressed": String(r.users.includes(app.me())), "aria-label": `${r.name} reaction, ${r.count}`,
        text: `${M.emoji(r.name)} ${r.count}`,
        onclick: () => app.call("react", { channel: app.state().shown.id, ts: message.ts, name: r.name }),
      })));
    }

    function menu(label, items) {
      const list = el("ul", { role: "menu", class: "menu", hidden: true, "aria-label": label });
      const toggle = el("button", {
        type: "button", class: "icon", "aria-label": label, "aria-haspopup": "menu", "aria-expanded": "false",
        text: label === "Add reaction" ? "\u263a" : "\u22ee",
        onclick: () => {
          const open = list.hidden;
          document.querySelectorAll(".hover-actions .menu").forEach((m) => { m.hidden = true; });
          list.hidden = !open;
          toggle.setAttribute("aria-expanded", String(open));
          if (open) list.querySelector("[role=menuitem]").focus();
        },
      });
      for (const [text, run] of items) {
        list.append(el("li", { role: "none" }, el("button", {
          type: "button", role: "menuitem", text,
          onclick: () => { list.hidden = true; toggle.setAttribute("aria-expanded", "false"); run(); },
        })));
      }
      return el("span", { class: "menu-wrap" }, toggle, list);
    }

    function hoverActions(message, inThread) {
      const where = { channel: app.state().shown.id, ts: message.ts };
      const more = [
        ...app.state().shortcuts.map(([callbackId, name]) => [name, () => app.call("shortcut", { ...where, callback_id: callbackId })]),
        [message.pinned ? "Un-pin from channel" : "Pin to channel", () => app.call("pin", where)],
      ];
      if (!inThread) more.push(["Reply in thread", () => app.openThread(message.ts)]);
      return el("div", { class: "hover-actions" },
        menu("Add reaction", REACTIONS.map((name) => [`${M.emoji(name)} :${name}:`, () => app.call("react", { ...where, name })])),
        menu("More actions", more));
    }

    function fileCard(file) {
      const name = file.title || file.name;
      return el("div", { class: "file" },
        el("span", { class: "file-icon", "aria-hidden": "true", text: "\ud83d\udcc4" }),
        el("span", { class: "file-name", text: name }),
        el("button", { type: "button", class: "btn", text: `Open ${name}`, onclick: () => openFile(file) }),
        el("a", { class: "btn", href: `/files/${encodeURIComponent(file.id)}?download=1`, download: file.name, text: "Download", "aria-label": `Download ${name}` }));
    }

    async function openFile(file) {
      const response = await fetch(`/files/${encodeURIComponent(file.id)}`);
      const text = await response.text();
      const titleId = `file-${file.id}`;
      const close = () => backdrop.remove();
      const markdownFile = /\.(md|markdown)$/i.test(file.name || "");
      const backdrop = el("div", { class: "backdrop" },
        el("div", { role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, class: "modal file-preview" },
          el("header", {}, el("h2", { id: titleId, text: file.title || file.name }),
            el("button", { type: "button", class: "icon", "aria-label": "Close", text: "\u00d7", onclick: close })),
          el("div", { class: "file-body", html: markdownFile ? M.markdown(text) : `<pre>${M.escapeHtml(text)}</pre>` })));
      backdrop.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
      document.body.append(backdrop);
      backdrop.querySelector("button").focus();
    }

    return { item: messageItem, time };
  };
})();
