// Slack's mrkdwn and the report's Markdown, rendered to HTML that can only be text.
// Every character of the input is HTML-escaped before any tag is added, so a person's
// "<script>" stays text. Exposes window.Mrkdwn.
"use strict";

(function () {
  const EMOJI = {
    white_check_mark: "\u2705", warning: "\u26a0\ufe0f", rotating_light: "\ud83d\udea8",
    tada: "\ud83c\udf89", pushpin: "\ud83d\udccc", lock: "\ud83d\udd12",
    bust_in_silhouette: "\ud83d\udc64", white_square: "\u25fb\ufe0f", paperclip: "\ud83d\udcce",
    no_entry: "\u26d4", memo: "\ud83d\udcdd", mag: "\ud83d\udd0d",
    leftwards_arrow_with_hook: "\u21a9\ufe0f", hourglass: "\u231b", handshake: "\ud83e\udd1d",
    eyes: "\ud83d\udc40", dart: "\ud83c\udfaf", arrows_counterclockwise: "\ud83d\udd04",
    arrow_up: "\u2b06\ufe0f", arrow_down: "\u2b07\ufe0f", fire: "\ud83d\udd25",
    "+1": "\ud83d\udc4d", thumbsup: "\ud83d\udc4d", heavy_check_mark: "\u2714\ufe0f",
    x: "\u274c", red_circle: "\ud83d\udd34", large_orange_circle: "\ud83d\udfe0",
    large_yellow_circle: "\ud83d\udfe1", large_green_circle: "\ud83d\udfe2",
    bell: "\ud83d\udd14", clock3: "\ud83d\udd52", rocket: "\ud83d\ude80",
    speech_balloon: "\ud83d\udcac", busts_in_silhouette: "\ud83d\udc65",
    chart_with_upwards_trend: "\ud83d\udcc8", calendar: "\ud83d\udcc6", information_source: "\u2139\ufe0f",
  };

  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  // Slack escapes &, < and > in message text; undo that before escaping for HTML.
  function unslack(text) {
    return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function emoji(html) {
    return html.replace(/:([a-z0-9_+-]+):/g, (whole, name) =>
      EMOJI[name] ? `<span class="emoji" title=":${name}:">${EMOJI[name]}</span>` : whole);
  }

  function safeUrl(url) {
    return /^(https?:|mailto:)/i.test(url) ? url : null;
  }

  const DATE_FORMATS = {
    date_num: { year: "numeric", month: "2-digit", day: "2-digit" },
    date: { year: "numeric", month: "long", day: "numeric" },
    date_short: { year: "numeric", month: "short", day: "numeric" },
    date_long: { weekday: "long", year: "numeric", month: "long", day: "numeric" },
    date_pretty: { year: "numeric", month: "long", day: "numeric" },
    date_short_pretty: { year: "numeric", month: "short", day: "numeric" },
    date_long_pretty: { weekday: "long", year: "numeric", month: "long", day: "numeric" },
    time: { hour: "2-digit", minute: "2-digit" },
    time_secs: { hour: "2-digit", minute: "2-digit", second: "2-digit" },
  };

  function ago(seconds) {
    const delta = Math.round(Date.now() / 1000 - seconds);
    const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
    for (const [unit, size] of units) {
      if (Math.abs(delta) >= size) {
        const n = Math.round(Math.abs(delta) / size);
        return delta >= 0 ? `${n} ${unit}${n > 1 ? "s" : ""} ago` : `in ${n} ${unit}${n > 1 ? "s" : ""}`;
      }
    }
    return "just now";
  }

  // <!date^1700000000^{date_short} at {time}|fallback>, in the viewer's own time zone.
  function formatDate(spec, fallback) {
    const [, epoch, pattern] = spec.split("^");
    const seconds = Number(epoch);
    if (!Number.isFinite(seconds) || !pattern) return escapeHtml(fallback || spec);
    const when = new Date(seconds * 1000);
    const text = pattern.replace(/\{(\w+)\}/g, (whole, token) => {
      if (token === "ago") return ago(seconds);
      const format = DATE_FORMATS[token];
      return format ? new Intl.DateTimeFormat(undefined, format).format(when) : whole;
    });
    return `<time datetime="${when.toISOString()}">${escapeHtml(text)}</time>`;
  }

  // One <...> token: a mention, a channel, a group, a broadcast, a date or a link.
  function token(inner, names) {
    const [target, label] = splitOnce(inner, "|");
    if (target.startsWith("@")) {
      const user = names.users[target.slice(1)];
      const name = label || (user ? user.real_name || user.name : target.slice(1));
      return `<span class="mention">@${escapeHtml(name)}</span>`;
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      const name = label || names.channels[id] || id;
      return `<a class="channel-link" href="#${escapeHtml(id)}">#${escapeHtml(name)}</a>`;
    }
    if (target.startsWith("!subteam^")) {
      const id = target.slice("!subteam^".length);
      const handle = label || "@" + (names.usergroups[id] || id);
      return `<span class="mention group">${escapeHtml(handle)}</span>`;
    }
    if (target.startsWith("!date^")) return formatDate(target, label);
    if (target.startsWith("!")) {
      return `<span class="mention broadcast">@${escapeHtml(label || target.slice(1))}</span>`;
    }
    const url = safeUrl(target);
    if (!url) return escapeHtml(label || target);
    return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(label || target)}</a>`;
  }

  function splitOnce(text, separator) {
    const at = text.indexOf(separator);
    return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
  }

  // Placeholders keep tokens and code out of the reach of the formatting rules.
  function hold(store, html) {
    store.push(html);
    return `\u0000${store.length - 1}\u0000`;
  }

  function release(store, html) {
    return html.replace(/\u0000(\d+)\u0000/g, (whole, n) => store[Number(n)]);
  }

  function inline(html) {
    return html
      .replace(/(^|[\s(])\*(?!\s)([^*\n]+?)\*(?=$|[\s.,!?;:)])/g, "$1<strong>$2</strong>")
      .replace(/(^|[\s(])_(?!\s)([^_\n]+?)_(?=$|[\s.,!?;:)])/g, "$1<em>$2</em>")
      .replace(/(^|[\s(])~(?!\s)([^~\n]+?)~(?=$|[\s.,!?;:)])/g, "$1<del>$2</del>");
  }

  function mrkdwn(text, names) {
    const store = [];
    let source = String(text || "");
    source = source.replace(/```([\s\S]*?)```/g, (whole, code) =>
      hold(store, `<pre>${escapeHtml(unslack(code))}</pre>`));
    source = source.replace(/<([^<>\n]+)>/g, (whole, inner) => hold(store, token(inner, names)));
    source = source.replace(/`([^`\n]+)`/g, (whole, code) =>
      hold(store, `<code>${escapeHtml(unslack(code))}</code>`));
    const lines = escapeHtml(unslack(source)).split("\n");
    const out = [];
    let list = null;
    for (const line of lines) {
      const quoted = /^&gt;\s?(.*)$/.exec(line);
      const bullet = /^\s*(?:[\u2022\u25e6-]|\d+\.)\s+(.*)$/.exec(line);
      if (bullet) {
        if (!list) { list = []; }
        list.push(`<li>${emoji(inline(bullet[1]))}</li>`);
        continue;
      }
      if (list) { out.push(`<ul>${list.join("")}</ul>`); list = null; }
      if (quoted) out.push(`<blockquote>${emoji(inline(quoted[1]))}</blockquote>`);
      else out.push(emoji(inline(line)) + "<br>");
    }
    if (list) out.push(`<ul>${list.join("")}</ul>`);
    let html = out.join("").replace(/(<br>)+$/, "");
    // Tokens inside tokens (a link's label) were released already; release until stable.
    for (let i = 0; i < 3 && html.includes("\u0000"); i++) html = release(store, html);
    return html;
  }

  function plain(text) {
    return emoji(escapeHtml(text || ""));
  }

  // The report: headings, lists, tables, code, bold, italic, links. Enough for a post-mortem.
  function markdown(text) {
    const lines = String(text || "").split("\n");
    const out = [];
    let i = 0;
    const span = (s) => escapeHtml(s)
      .replace(/`([^`]+)`/g, "<code>$1</code>")
      .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
      .replace(/(^|\W)_([^_]+)_(?=\W|$)/g, "$1<em>$2</em>")
      .replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, '<a href="$2" target="_blank" rel="noopener noreferrer">$1</a>');
    while (i < lines.length) {
      const line = lines[i];
      if (line.startsWith("```")) {
        const code = [];
        for (i++; i < lines.length && !lines[i].startsWith("```"); i++) code.push(lines[i]);
        out.push(`<pre>${escapeHtml(code.join("\n"))}</pre>`);
        i++;
        continue;
      }
      const heading = /^(#{1,6})\s+(.*)$/.exec(line);
      if (heading) {
        const level = heading[1].length;
        out.push(`<h${level}>${span(heading[2])}</h${level}>`);
        i++;
        continue;
      }
      if (/^\s*\|/.test(line)) {
        const rows = [];
        for (; i < lines.length && /^\s*\|/.test(lines[i]); i++) rows.push(lines[i]);
        const cells = (row) => row.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
        const body = rows.filter((r) => !/^\s*\|[\s:|-]+\|\s*$/.test(r));
        const [head, ...rest] = body;
        out.push("<table><thead><tr>" + cells(head).map((c) => `<th>${span(c)}</th>`).join("") +
          "</tr></thead><tbody>" + rest.map((r) => "<tr>" + cells(r).map((c) => `<td>${span(c)}</td>`).join("") + "</tr>").join("") +
          "</tbody></table>");
        continue;
      }
      if (/^\s*([-*]|\d+\.)\s+/.test(line)) {
        const items = [];
        for (; i < lines.length && /^\s*([-*]|\d+\.)\s+/.test(lines[i]); i++) {
          items.push(`<li>${span(lines[i].replace(/^\s*([-*]|\d+\.)\s+/, ""))}</li>`);
        }
        out.push(`<ul>${items.join("")}</ul>`);
        continue;
      }
      if (line.trim()) out.push(`<p>${span(line)}</p>`);
      i++;
    }
    return out.join("\n");
  }

  window.Mrkdwn = { mrkdwn, plain, markdown, escapeHtml, emoji: (name) => EMOJI[name] || `:${name}:` };
})();
