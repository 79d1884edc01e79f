// The sandbox's Slack client: sidebar, channel, composer, modals, App Home, live updates.
// Everything shown comes from /api/state; everything done goes to /api/<action>, which the
// server turns into what Slack would send Klaxon.
"use strict";

(function () {
  const { el, render, collect, showErrors } = window.BlockKit;
  const M = window.Mrkdwn;
  const $ = (id) => document.getElementById(id);

  const view = {
    me: localStorage.getItem("klaxon-sandbox-user") || "",
    channel: decodeURIComponent(location.hash.slice(1)) || "",
    home: false, // the App Home is shown instead of a channel
    thread: null, // ts of the open thread
    state: null,
    rendered: new Map(), // ts -> JSON of what was drawn, to redraw only what changed
    modal: null, // { id, fingerprint } of the modal drawn
    errorsSeen: 0,
  };

  async function call(action, body) {
    const response = await fetch(`/api/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: view.me, ...body }),
    });
    const answer = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
    if (!answer.ok) notice(answer.error || "that did not work");
    return answer;
  }

  function notice(text) {
    const box = $("notice");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(notice.timer);
    notice.timer = setTimeout(() => { box.hidden = true; }, 8000);
  }

  function names() {
    const s = view.state;
    return { users: s.users, channels: s.channel_names, usergroups: s.usergroups };
  }

  // -- loading -------------------------------------------------------------------------

  let loading = null;
  let again = false;
  async function refresh() {
    if (loading) { again = true; return loading; }
    loading = (async () => {
      do {
        again = false;
        const asked = { user: view.me, channel: view.channel };
        const response = await fetch(`/api/state?${new URLSearchParams(asked)}`);
        // The person or the channel changed while this was on its way: ask again.
        if (asked.user !== view.me || asked.channel !== view.channel) { again = true; continue; }
        if (response.ok) draw(await response.json());
      } while (again);
    })();
    try { await loading; } finally { loading = null; }
  }

  function draw(state) {
    const changedPerson = !view.state || view.state.me !== state.me;
    view.state = state;
    view.me = state.me;
    view.channel = state.shown.id;
    document.body.dataset.me = state.me;
    window.BlockKit.names = names();
    if (changedPerson) view.rendered.clear();
    drawPeople();
    drawSidebar();
    drawChannel();
    drawHome();
    drawThread();
    drawModal();
    drawErrors();
    document.body.dataset.version = String(state.version);
  }

  // -- people and sidebar ------------------------------------------------------------------

  function drawPeople() {
    const select = $("who");
    if (select.options.length !== view.state.people.length) {
      select.replaceChildren(...view.state.people.map((p) =>
        el("option", { value: p.id, text: `${p.real_name} (${p.role})` })));
    }
    select.value = view.me;
  }

  function channelLink(channel) {
    const current = !view.home && channel.id === view.channel;
    return el("li", {}, el("a", {
      href: `#${channel.id}`, text: `#${channel.name}`, "aria-current": current ? "page" : null,
      class: channel.is_member ? "member" : "not-member",
      onclick: (event) => { event.preventDefault(); openChannel(channel.id); },
    }));
  }

  function drawSidebar() {
    const s = view.state;
    $("channels").replaceChildren(...s.channels.map(channelLink));
    const inDm = !view.home && view.channel === s.im;
    $("dms").replaceChildren(el("li", {}, el("a", {
      href: `#${s.im}`, text: "Klaxon", "aria-current": inDm ? "page" : null,
      onclick: (event) => { event.preventDefault(); openChannel(s.im); },
    })));
    $("apps").replaceChildren(el("li", {}, el("a", {
      href: "#home", text: "Klaxon app home", "aria-current": view.home ? "page" : null,
      onclick: (event) => { event.preventDefault(); openHome(); },
    })));
  }

  function openChannel(id) {
    view.home = false;
    view.thread = null;
    view.channel = id;
    view.rendered.clear();
    history.replaceState(null, "", `#${id}`);
    refresh().then(() => $("composer-input").focus());
  }

  async function openHome() {
    view.home = true;
    history.replaceState(null, "", "#home");
    await call("home", {});
    await refresh();
  }

  // -- a channel -------------------------------------------------------------------------

  function drawChannel() {
    const shown = view.state.shown;
    const isIm = shown.is_im;
    const title = isIm ? "Klaxon" : `#${shown.name}`;
    $("channel").hidden = view.home;
    $("channel-title").textContent = title;
    $("channel-topic").innerHTML = isIm ? "Messages from Klaxon" : M.mrkdwn(shown.topic, names());
    $("channel-meta").textContent = isIm ? "" : `${shown.members} members · ${shown.pins} pinned`;
    const label = isIm ? "Message Klaxon" : `Message #${shown.name}`;
    $("composer-input").setAttribute("aria-label", label);
    $("composer-input").placeholder = label;
    $("join-bar").hidden = shown.is_member || isIm;
    // The manifest makes Klaxon's Messages tab read-only, as Slack then shows it.
    $("composer").hidden = !shown.is_member || isIm;
    $("read-only").hidden = !isIm;
    drawMessages($("messages"), shown.messages, false);
  }

  function drawMessages(list, messages, inThread) {
    const seen = new Set();
    let previous = null;
    for (const message of messages) {
      const key = `${message.ephemeral ? "e" : "m"}${message.ts}`;
      seen.add(key);
      const json = JSON.stringify(message);
      let item = list.querySelector(`:scope > [data-key="${CSS.escape(key)}"]`);
      const cacheKey = (inThread ? "t" : "") + key;
      if (!item || view.rendered.get(cacheKey) !== json) {
        const fresh = painter.item(message, inThread);
        fresh.dataset.key = key;
        if (item) item.replaceWith(fresh); else (previous ? previous.after(fresh) : list.prepend(fresh));
        item = fresh;
        view.rendered.set(cacheKey, json);
      }
      previous = item;
    }
    for (const item of [...list.children]) if (!seen.has(item.dataset.key)) item.remove();
    if (!inThread) list.scrollTop = list.scrollHeight;
  }

  const painter = window.Messages({
    state: () => view.state,
    me: () => view.me,
    names,
    call,
    act: (...args) => act(...args),
    openThread: (ts) => openThread(ts),
  });

  async function act(surface, element, blockId, value) {
    const body = { surface, action_id: element.action_id, block_id: blockId, value };
    if (surface.kind === "view") {
      const form = document.querySelector(`form[data-view-id="${CSS.escape(surface.id)}"]`);
      if (form) body.values = collect(form);
    }
    await call("action", body);
  }

  // -- threads ---------------------------------------------------------------------------

  function openThread(ts) {
    view.thread = ts;
    drawThread();
    $("thread-input").focus();
  }

  function drawThread() {
    const pane = $("thread");
    const root = view.thread && !view.home && view.state.shown.messages.find((m) => m.ts === view.thread);
    pane.hidden = !root;
    if (!root) return;
    drawMessages($("thread-messages"), [{ ...root, replies: [] }, ...root.replies], true);
  }

  // -- App Home ----------------------------------------------------------------------------

  function drawHome() {
    const pane = $("home");
    pane.hidden = !view.home;
    if (!view.home) return;
    const home = view.state.home;
    const key = home ? home.fingerprint : "none";
    if (pane.dataset.fingerprint === key) return;
    pane.dataset.fingerprint = key;
    const surface = home ? { kind: "view", id: home.id } : null;
    const ctx = { names: names(), act: (element, blockId, value) => act(surface, element, blockId, value) };
    $("home-body").replaceChildren(home ? render(home.blocks, ctx) : el("p", { text: "Klaxon has not published a Home tab yet." }));
  }

  // -- modals ----------------------------------------------------------------------------

  function drawModal() {
    const modals = view.state.modals;
    const top = modals[modals.length - 1];
    const root = $("modal-root");
    if (!top) { root.replaceChildren(); view.modal = null; return; }
    if (view.modal && view.modal.id === top.id && view.modal.fingerprint === top.fingerprint) return;
    // Same view, new content (views.update): keep what was typed, as Slack keeps it by block.
    const oldForm = root.querySelector("form");
    const saved = oldForm && view.modal && view.modal.id === top.id ? collect(oldForm) : undefined;
    view.modal = { id: top.id, fingerprint: top.fingerprint };
    const titleId = `modal-title-${top.id}`;
    const surface = { kind: "view", id: top.id };
    const ctx = { names: names(), saved, act: (element, blockId, value) => act(surface, element, blockId, value) };
    const form = el("form", { "data-view-id": top.id, novalidate: true },
      render(top.blocks, ctx),
      el("footer", {},
        el("button", { type: "button", class: "btn", text: top.close || "Cancel", onclick: () => call("close", { view_id: top.id }) }),
        top.submit ? el("button", { type: "submit", class: "btn primary", text: top.submit }) : null));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const answer = await call("submit", { view_id: top.id, values: collect(form) });
      const data = answer.answer || {};
      if (data.response_action === "errors") showErrors(form, data.errors);
      await refresh();
    });
    const dialog = el("div", { role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, class: "modal" },
      el("header", {},
        el("h2", { id: titleId, text: top.title }),
        el("button", { type: "button", class: "icon", "aria-label": "Close", text: "\u00d7", onclick: () => call("close", { view_id: top.id, all: true }) })),
      form);
    dialog.addEventListener("keydown", (event) => { if (event.key === "Escape") call("close", { view_id: top.id, all: true }); });
    root.replaceChildren(el("div", { class: "backdrop" }, dialog));
    (form.querySelector("input, textarea, select") || form.querySelector("button")).focus();
  }

  // -- Slack's errors for Klaxon's calls --------------------------------------------------

  function drawErrors() {
    const errors = view.state.errors;
    $("errors-toggle").textContent = `Slack errors (${errors.length})`;
    $("errors-toggle").classList.toggle("has-errors", errors.length > 0);
    $("errors-list").replaceChildren(...errors.slice().reverse().map((e) => el("li", {},
      el("code", { text: e.method }), document.createTextNode(` answered `), el("strong", { text: e.error }),
      e.channel ? document.createTextNode(` (channel ${view.state.channel_names[e.channel] ? "#" + view.state.channel_names[e.channel] : e.channel})`) : null,
      document.createTextNode(" at "), painter.time(String(e.at)))));
    if (errors.length > view.errorsSeen && view.errorsSeen !== 0) {
      const latest = errors[errors.length - 1];
      notice(`Slack refused Klaxon's ${latest.method}: ${latest.error}`);
    }
    view.errorsSeen = Math.max(errors.length, 1);
  }

  // -- "Send a test alert": Alertmanager's notification to Klaxon's real endpoint --------

  async function sendAlert() {
    const button = $("send-alert");
    button.disabled = true;
    try {
      const response = await fetch("/api/alert", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({}),
      });
      const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
      if (answer.status === undefined) { notice(`Test alert not sent: ${answer.error || "that did not work"}`); return; }
      const alerts = answer.alerts === 1 ? "1 alert" : `${answer.alerts} alerts`;
      const said = answer.answer || {};
      const outcome = said.error || [said.status, said.incident].filter(Boolean).join(", ");
      notice(`Test alert (${alerts} firing) sent: Klaxon answered HTTP ${answer.status}${outcome ? ` (${outcome})` : ""}`);
    } finally {
      button.disabled = false;
      await refresh();
    }
  }

  // -- composer --------------------------------------------------------------------------

  async function send(input, threadTs) {
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const channel = view.state.shown.id;
    if (text.startsWith("/") && !threadTs) await call("command", { channel, text });
    else await call("message", { channel, text, thread_ts: threadTs });
    await refresh();
  }

  function composer(form, input, threadTs) {
    form.addEventListener("submit", (event) => { event.preventDefault(); send(input, threadTs()); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send(input, threadTs());
      }
    });
  }

  function start() {
    composer($("composer"), $("composer-input"), () => null);
    composer($("thread-composer"), $("thread-input"), () => view.thread);
    $("thread-close").addEventListener("click", () => { view.thread = null; drawThread(); });
    $("join").addEventListener("click", async () => { await call("join", { channel: view.state.shown.id }); await refresh(); });
    $("who").addEventListener("change", (event) => {
      view.me = event.target.value;
      localStorage.setItem("klaxon-sandbox-user", view.me);
      view.modal = null;
      refresh().then(() => { if (view.home) openHome(); });
    });
    $("send-alert").addEventListener("click", sendAlert);
    $("errors-toggle").addEventListener("click", () => {
      const open = $("errors").hidden;
      $("errors").hidden = !open;
      $("errors-toggle").setAttribute("aria-expanded", String(open));
    });
    if (view.channel === "home") { view.channel = ""; view.home = true; }
    // A menu closes on Escape and on a click elsewhere, as Slack's do.
    const closeMenus = (except) => document.querySelectorAll(".menu").forEach((menu) => {
      if (menu.parentElement.contains(except)) return;
      menu.hidden = true;
      menu.parentElement.querySelector("[aria-expanded]")?.setAttribute("aria-expanded", "false");
    });
    document.addEventListener("click", (event) => closeMenus(event.target));
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeMenus(null); });
    // Channel links inside messages (<#C...>) are plain #C... anchors.
    window.addEventListener("hashchange", () => {
      const id = decodeURIComponent(location.hash.slice(1));
      if (id === "home") openHome();
      else if (id && (id !== view.channel || view.home)) openChannel(id);
    });
    const stream = new EventSource("/api/stream");
    stream.addEventListener("changed", () => refresh());
    (view.home ? openHome() : refresh());
  }

  document.addEventListener("DOMContentLoaded", start);
})();
