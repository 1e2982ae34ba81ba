/*
 * Report citation widget: search the report, see the exact passage and its place,
 * open the surrounding text and copy a citation.
 *
 * Embed with one line; the widget mounts where the tag stands, inside a shadow root:
 *   <script src="https://HOST/widget.js" data-api="https://HOST"></script>
 * Optional attributes: data-k (results, 1..50), data-doc-id (one document only),
 * data-mode ("ask", the default, or "search").
 *
 * Without data-doc-id, region and year filters (filled from GET /documents) narrow /ask and
 * /search; each card names its report (title, region, year); the API's note on how the
 * question was resolved shows above the answer, and a comparison over several reports shows
 * their quotes side by side.
 *
 * When /ask gives a short answer (short_answer: the figure, name, date or short list asked
 * for, with its citation n and its offsets in the document), it stands above the answer with
 * its [n], and its span is marked in card n (mark.rw-mark-short) inside the quoted sentence.
 * One that is not exactly the text of card n at those offsets is not shown.
 *
 * Security: everything that comes from the API is inserted with textContent and
 * createElement, never as HTML; no eval, no inline handlers, no inline styles.
 */
(function () {
  "use strict";

  var SCRIPT = document.currentScript || findScript();
  if (!SCRIPT || SCRIPT.getAttribute("data-report-widget-mounted")) {
    return;
  }
  SCRIPT.setAttribute("data-report-widget-mounted", "1");

  var T = {
    label: "在报告中查找",
    labelEn: "Search the report",
    placeholder: "例如：养老床位新增多少？",
    hint: "可输入问题、章节（如 三（四））或段落编号。",
    submit: "查找",
    modeLegend: "查找方式",
    modeAsk: "问答",
    modeSearch: "检索段落",
    loading: "正在查找…",
    empty: "报告中没有找到相关内容",
    needQuery: "请输入问题、章节或段落编号。",
    network:
      "无法连接到报告检索服务。如果您是本网站的管理员，请确认本网站已列入服务的 CORS_ORIGINS。",
    badConfig: "小部件配置有误：data-api 必须是 http(s) 地址。",
    answer: "回答",
    shortAnswer: "答案：",
    results: "结果",
    found: function (n) {
      return "找到 " + n + " 段相关内容。";
    },
    sectionFound: function (ref, n) {
      return "章节 " + ref + "，共 " + n + " 段。";
    },
    notAnswerable: "报告中没有找到能直接回答的内容，下面是最接近的段落。",
    report: "报告",
    filtersLegend: "报告范围",
    region: "地区",
    year: "年份",
    allRegions: "全部地区",
    allYears: "全部年份",
    yearOption: function (y) {
      return y + "年";
    },
    docLine: "所属报告：",
    compare: "各报告对比",
    compareQuote: "原文：",
    where: "位置：",
    showContext: "显示上下文",
    hideContext: "隐藏上下文",
    showContextEn: "Show context",
    loadingContext: "正在加载上下文…",
    copy: "复制引用",
    copyEn: "Copy citation",
    copied: "已复制",
    copyManual: "无法自动复制，请手动复制：",
    gotoCitation: function (n) {
      return "查看引用 " + n;
    },
    card: function (n, ref) {
      return "引用 " + n + (ref ? "：" + ref : "");
    },
    paragraph: function (p) {
      return "第" + p + "段";
    },
  };

  var NATIONAL = "全国";

  var STOP = new Set(
    (
      "多少 什么 哪些 哪个 如何 怎么 怎样 为什么 是否 有没有 可以 能否 请问 一下 报告 提到 " +
      "关于 方面 情况 主要 以及 还有 这个 那个 已经 我们 他们 进行 " +
      "the a an of is are was were what how many much in on to and for does do did with " +
      "about which who when where why report"
    ).split(" ")
  );

  var CSS = [
    ":host{all:initial;display:block;contain:content;}",
    ".rw{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI','PingFang SC',",
    "'Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;",
    "font-size:16px;line-height:1.6;color:#1f2328;background:#fff;border:1px solid #d0d7de;",
    "border-radius:10px;padding:16px;max-width:760px;overflow-wrap:anywhere;}",
    ".rw *,.rw *::before,.rw *::after{box-sizing:inherit;}",
    ".rw [hidden]{display:none !important;}",
    ".rw-sr{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;",
    "clip:rect(0,0,0,0);white-space:nowrap;border:0;}",
    ".rw-label{display:block;font-weight:600;margin:0 0 6px;}",
    ".rw-label-en{font-weight:400;color:#59636e;font-size:.875em;margin-left:.5em;}",
    ".rw-row{display:flex;gap:8px;}",
    ".rw-input{flex:1 1 auto;min-width:0;font:inherit;padding:8px 10px;border:1px solid #8c959f;",
    "border-radius:6px;background:#fff;color:inherit;}",
    ".rw button{font:inherit;cursor:pointer;border-radius:6px;}",
    ".rw-submit{flex:0 0 auto;padding:8px 16px;border:1px solid #a4161a;background:#a4161a;",
    "color:#fff;font-weight:600;}",
    ".rw-submit:hover{background:#8a1216;}",
    ".rw-modes{border:0;margin:8px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px;}",
    ".rw-modes label{display:inline-flex;align-items:center;gap:4px;cursor:pointer;}",
    ".rw-hint{margin:6px 0 0;color:#59636e;font-size:.875em;}",
    ".rw-filters{border:0;margin:8px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:6px 16px;}",
    ".rw-filters label{display:inline-flex;align-items:center;gap:6px;font-size:.875em;",
    "color:#424a53;}",
    ".rw-select{font:inherit;font-size:1em;padding:4px 6px;border:1px solid #8c959f;",
    "border-radius:6px;background:#fff;color:#1f2328;max-width:12em;}",
    ".rw-note{margin:12px 0 0;padding:6px 10px;border-left:3px solid #8c959f;background:#f6f8fa;",
    "color:#424a53;font-size:.875em;}",
    ".rw-note p{margin:0;}",
    ".rw-compare{margin:12px 0 0;}",
    ".rw-compare h2{font-size:1em;margin:0 0 6px;}",
    ".rw-compare-list{list-style:none;margin:0;padding:0;display:grid;gap:8px;",
    "grid-template-columns:repeat(auto-fit,minmax(180px,1fr));}",
    ".rw-compare-item{border:1px solid #d0d7de;border-radius:8px;padding:8px 10px;",
    "background:#fff;display:flex;flex-direction:column;gap:4px;min-width:0;}",
    ".rw-compare-title{margin:0;font-weight:600;font-size:.875em;}",
    ".rw-compare-meta{margin:0;color:#59636e;font-size:.8125em;}",
    ".rw-compare-quote{margin:0;font-size:.9375em;white-space:pre-line;flex:1 1 auto;}",
    ".rw :focus-visible{outline:3px solid #0969da;outline-offset:2px;}",
    ".rw-input:focus-visible{outline-offset:0;}",
    ".rw-status{margin:12px 0 0;color:#59636e;font-size:.875em;min-height:1.4em;}",
    ".rw-error{margin:12px 0 0;padding:8px 12px;border-left:4px solid #cf222e;",
    "background:#ffebe9;color:#82071e;}",
    ".rw-empty{margin:12px 0 0;padding:12px;background:#f6f8fa;border-radius:6px;}",
    ".rw-answer{margin:12px 0 0;padding:12px;border-radius:8px;background:#fdf6e3;",
    "border:1px solid #eedc9a;}",
    ".rw-answer h2,.rw-results-title{font-size:1em;margin:0 0 4px;}",
    ".rw-answer p{margin:0;}",
    ".rw-answer.rw-unanswerable{background:#f6f8fa;border-color:#d0d7de;}",
    ".rw-cite{border:0;background:none;padding:0 1px;color:#0969da;font-weight:600;",
    "text-decoration:underline;font-size:.9em;vertical-align:baseline;}",
    ".rw-results{list-style:none;margin:12px 0 0;padding:0;display:flex;flex-direction:column;",
    "gap:12px;}",
    ".rw-card{border:1px solid #d0d7de;border-radius:8px;padding:12px;background:#fff;}",
    ".rw-card:focus{outline:3px solid #0969da;outline-offset:2px;}",
    ".rw-card.rw-flash{box-shadow:0 0 0 4px #ffe08a;}",
    ".rw-head{display:flex;gap:8px;align-items:baseline;}",
    ".rw-where{display:flex;flex-direction:column;min-width:0;}",
    ".rw-doc{margin:0;color:#424a53;font-size:.8125em;font-weight:600;}",
    ".rw-n{flex:0 0 auto;color:#a4161a;font-weight:700;font-size:.875em;}",
    ".rw-crumbs{margin:0;color:#59636e;font-size:.8125em;display:flex;flex-wrap:wrap;",
    "align-items:baseline;min-width:0;}",
    ".rw-crumb{display:inline-block;max-width:100%;overflow:hidden;text-overflow:ellipsis;",
    "white-space:nowrap;vertical-align:bottom;}",
    ".rw-sep{margin:0 .35em;color:#8c959f;}",
    ".rw-text{margin:8px 0 0;white-space:pre-line;}",
    ".rw-ctx{margin:8px 0 0;padding-left:10px;border-left:3px solid #d0d7de;color:#424a53;}",
    ".rw-ctx p{margin:0 0 6px;white-space:pre-line;font-size:.9375em;}",
    "mark{background:#fff3b0;color:inherit;padding:0 1px;border-radius:2px;}",
    "mark.rw-hl{background:#ffd866;}",
    "mark.rw-mark-short{background:#f5a623;color:#1f2328;font-weight:700;",
    "box-shadow:inset 0 -2px 0 #a4161a;}",
    ".rw-short{margin:12px 0 0;padding:8px 12px;border-radius:8px;background:#fff3d6;",
    "border:1px solid #f0c36d;font-size:1.0625em;}",
    ".rw-short-label{color:#59636e;font-size:.875em;margin-right:.25em;}",
    ".rw-short-text{font-weight:700;color:#1f2328;margin-right:.25em;}",
    ".rw-foot{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-top:10px;}",
    ".rw-ref{color:#59636e;font-size:.8125em;margin-right:auto;}",
    ".rw-btn{border:1px solid #8c959f;background:#f6f8fa;color:#1f2328;padding:4px 10px;",
    "font-size:.875em;}",
    ".rw-btn:hover{background:#eaeef2;}",
    ".rw-copied{color:#1a7f37;font-size:.875em;min-width:3em;}",
    ".rw-manual{width:100%;font:inherit;font-size:.8125em;padding:4px;}",
    "@media (max-width:480px){.rw{padding:12px;border-radius:0;border-left:0;border-right:0;}",
    ".rw-submit{padding:8px 12px;}.rw-ref{flex-basis:100%;}}",
  ].join("");

  // ---- small DOM helpers (text only, never HTML) -------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function present(value) {
    return value !== null && value !== undefined && String(value).trim() !== "";
  }

  function findScript() {
    var scripts = document.querySelectorAll("script[src]");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (
        /\/widget\.js(\?|#|$)/.test(scripts[i].src) &&
        !scripts[i].getAttribute("data-report-widget-mounted")
      ) {
        return scripts[i];
      }
    }
    return null;
  }

  function apiBase(script) {
    var attr = script.getAttribute("data-api");
    var raw = attr && attr.trim() ? attr.trim() : script.src.replace(/\/widget\.js([?#].*)?$/, "");
    try {
      var url = new URL(raw, document.baseURI);
      if (url.protocol !== "http:" && url.protocol !== "https:") return null;
      return url.href.replace(/\/+$/, "");
    } catch (e) {
      return null;
    }
  }

  // ---- text: offsets, terms and highlighting -----------------------------------------

  /** Python offsets count code points; JavaScript strings count UTF-16 units. */
  function unitOffset(text, codePoints) {
    if (!/[\uD800-\uDFFF]/.test(text)) return codePoints;
    var units = 0;
    for (var cp = 0; cp < codePoints && units < text.length; cp++) {
      var c = text.charCodeAt(units);
      units += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
    }
    return units;
  }

  function queryTerms(query) {
    var words = [];
    if (typeof Intl !== "undefined" && Intl.Segmenter) {
      var seg = new Intl.Segmenter("zh", { granularity: "word" });
      for (var part of seg.segment(query)) {
        if (part.isWordLike) words.push(part.segment);
      }
    } else {
      words = query.split(/[\s\p{P}\p{S}]+/u);
    }
    var seen = new Set();
    return words
      .map(function (w) {
        return w.trim().toLowerCase();
      })
      .filter(function (w) {
        if (!w || STOP.has(w) || seen.has(w)) return false;
        seen.add(w);
        var cjk = /[\u3400-\u9fff]/.test(w);
        return cjk ? w.length >= 2 : w.length >= 3 || /^\d+$/.test(w);
      });
  }

  function termRanges(text, terms) {
    var hay = text.toLowerCase();
    if (hay.length !== text.length) hay = text;
    var ranges = [];
    terms.forEach(function (term) {
      var at = hay.indexOf(term);
      while (at !== -1 && term) {
        ranges.push([at, at + term.length, "term"]);
        at = hay.indexOf(term, at + term.length);
      }
    });
    return ranges;
  }

  function sentenceRanges(passage, highlights) {
    var text = passage.text;
    var base = Number(passage.start) || 0;
    return (highlights || [])
      .map(function (span) {
        var s = Math.max(0, Number(span[0]) - base);
        var e = Math.min(Number(span[1]) - base, Array.from(text).length);
        return [unitOffset(text, s), unitOffset(text, e), "hl"];
      })
      .filter(function (r) {
        return r[1] > r[0];
      });
  }

  /** Where the short answer lies in a passage's text (UTF-16 [start, end]), or null when the
   * API's span is not exactly that text there. */
  function shortRange(passage, short) {
    if (!short || typeof short.text !== "string" || !short.text) return null;
    var text = String(passage.text || "");
    var base = Number(passage.start);
    var start = Number(short.start);
    var end = Number(short.end);
    if (![base, start, end].every(Number.isInteger)) return null;
    var length = Array.from(text).length;
    if (start < base || end <= start || end - base > length) return null;
    var range = [unitOffset(text, start - base), unitOffset(text, end - base)];
    return text.slice(range[0], range[1]) === short.text ? range : null;
  }

  /** text[from:to] into parent, the part inside `short` (if any) as mark.rw-mark-short. */
  function appendText(parent, text, from, to, short) {
    var s = short ? Math.max(from, short[0]) : to;
    var e = short ? Math.min(to, short[1]) : to;
    if (s >= e) {
      parent.appendChild(document.createTextNode(text.slice(from, to)));
      return;
    }
    if (s > from) parent.appendChild(document.createTextNode(text.slice(from, s)));
    parent.appendChild(el("mark", { class: "rw-mark-short" }, [text.slice(s, e)]));
    if (to > e) parent.appendChild(document.createTextNode(text.slice(e, to)));
  }

  /** Text split into text nodes and <mark> elements; overlapping ranges merge; the short
   * answer's range, if given, is marked inside them. */
  function highlighted(text, ranges, short) {
    var frag = document.createDocumentFragment();
    var sorted = ranges.slice().sort(function (a, b) {
      return a[0] - b[0] || b[1] - a[1];
    });
    var merged = [];
    sorted.forEach(function (r) {
      var last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) {
        last[1] = Math.max(last[1], r[1]);
        if (r[2] === "hl") last[2] = "hl";
      } else {
        merged.push(r.slice());
      }
    });
    var pos = 0;
    merged.forEach(function (r) {
      if (r[0] > pos) appendText(frag, text, pos, r[0], short);
      var mark = el("mark", { class: r[2] === "hl" ? "rw-hl" : "rw-term" });
      appendText(mark, text, r[0], r[1], short);
      frag.appendChild(mark);
      pos = r[1];
    });
    if (pos < text.length) appendText(frag, text, pos, text.length, short);
    return frag;
  }

  // ---- citations -----------------------------------------------------------------------

  function formatDate(value) {
    var m = /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?/.exec(String(value || ""));
    if (!m) return value ? String(value) : "";
    return (
      m[1] + "年" + (m[2] ? Number(m[2]) + "月" : "") + (m[3] ? Number(m[3]) + "日" : "")
    );
  }

  /** 《政府工作报告》（上海，2018年1月23日）三（四）第2段，字符 12345–12420 */
  function citationText(passage, doc) {
    var title = (doc && doc.title) || passage.doc_title || passage.doc_id;
    var meta = [doc && doc.region, doc && formatDate(doc.date)].filter(Boolean);
    var where = meta.length ? "（" + meta.join("，") + "）" : "";
    var para = Number(passage.paragraph) >= 1 ? T.paragraph(passage.paragraph) : "";
    return (
      "《" + title + "》" + where + (passage.section || "") + para +
      "，字符 " + passage.start + "\u2013" + passage.end
    );
  }

  // ---- the widget ------------------------------------------------------------------------

  function Widget(script) {
    this.base = apiBase(script);
    this.k = Math.min(50, Math.max(1, parseInt(script.getAttribute("data-k") || "5", 10) || 5));
    this.docId = script.getAttribute("data-doc-id") || null;
    this.defaultMode = script.getAttribute("data-mode") === "search" ? "search" : "ask";
    this.seq = 0;
    this.controller = null;
    this.docs = null;
    this.cards = {};

    this.host = el("div", { class: "report-widget", "data-report-widget": "" });
    var root = this.host.attachShadow({ mode: "open" });
    this.root = root;
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(el("style", { text: CSS }));
    }
    this.build();
  }

  Widget.prototype.build = function () {
    var self = this;
    this.input = el("input", {
      id: "rw-q",
      class: "rw-input",
      type: "search",
      name: "q",
      autocomplete: "off",
      enterkeyhint: "search",
      placeholder: T.placeholder,
      "aria-describedby": "rw-hint",
    });
    this.modeAsk = el("input", {
      type: "radio", name: "rw-mode", value: "ask", checked: this.defaultMode === "ask",
    });
    this.modeSearch = el("input", {
      type: "radio", name: "rw-mode", value: "search", checked: this.defaultMode === "search",
    });
    this.form = el("form", { class: "rw-form", role: "search", "aria-label": T.label, novalidate: true }, [
      el("label", { class: "rw-label", for: "rw-q" }, [
        T.label,
        el("span", { class: "rw-label-en", lang: "en", text: T.labelEn }),
      ]),
      el("div", { class: "rw-row" }, [
        this.input,
        el("button", { class: "rw-submit", type: "submit", text: T.submit }),
      ]),
      el("fieldset", { class: "rw-modes" }, [
        el("legend", { class: "rw-sr", text: T.modeLegend }),
        el("label", null, [this.modeAsk, T.modeAsk]),
        el("label", null, [this.modeSearch, T.modeSearch]),
      ]),
      this.buildFilters(),
      el("p", { id: "rw-hint", class: "rw-hint", text: T.hint }),
    ]);
    this.status = el("p", { class: "rw-status", role: "status", "aria-live": "polite" });
    this.error = el("p", { class: "rw-error", role: "alert", hidden: true });
    this.empty = el("p", { class: "rw-empty", hidden: true, text: T.empty });
    this.note = el("div", { class: "rw-note", role: "note", hidden: true });
    this.shortBox = el("p", { class: "rw-short", hidden: true });
    this.answerText = el("p", { class: "rw-answer-text" });
    this.answer = el("section", { class: "rw-answer", "aria-label": T.answer, hidden: true }, [
      el("h2", { text: T.answer }),
      this.answerText,
    ]);
    this.compareList = el("ol", { class: "rw-compare-list" });
    this.compare = el("section", { class: "rw-compare", "aria-label": T.compare, hidden: true }, [
      el("h2", { text: T.compare }),
      this.compareList,
    ]);
    this.results = el("ol", { class: "rw-results", "aria-label": T.results, "aria-busy": "false" });
    this.root.appendChild(
      el("div", { class: "rw", lang: "zh-CN" }, [
        this.form, this.status, this.error, this.note, this.empty, this.shortBox, this.answer,
        this.compare,
        this.results,
      ])
    );
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.run(self.input.value);
    });
    this.loadFilters();
  };

  /** Region and year <select>s, hidden until /documents shows more than one of either. */
  Widget.prototype.buildFilters = function () {
    var self = this;
    this.regionSelect = el("select", { id: "rw-region", class: "rw-select", name: "region" }, [
      el("option", { value: "", text: T.allRegions }),
    ]);
    this.yearSelect = el("select", { id: "rw-year", class: "rw-select", name: "year" }, [
      el("option", { value: "", text: T.allYears }),
    ]);
    this.regionFilter = el("label", { class: "rw-filter", hidden: true }, [
      T.region, this.regionSelect,
    ]);
    this.yearFilter = el("label", { class: "rw-filter", hidden: true }, [T.year, this.yearSelect]);
    this.filters = el("fieldset", { class: "rw-filters", hidden: true }, [
      el("legend", { class: "rw-sr", text: T.filtersLegend }),
      this.regionFilter,
      this.yearFilter,
    ]);
    // A new scope answers the question again, once one was asked.
    [this.regionSelect, this.yearSelect].forEach(function (select) {
      select.addEventListener("change", function () {
        if (self.seq && self.input.value.trim()) self.run(self.input.value);
      });
    });
    return this.filters;
  };

  /** The regions (全国 first, then in the order listed) and years (latest first) held; once
   * (a failed request is tried again with the next question). */
  Widget.prototype.loadFilters = function () {
    var self = this;
    if (!this.base || this.docId || this.filtersLoading) return;
    this.filtersLoading = this.documents().then(function (docs) {
      if (!self.docs) {
        self.filtersLoading = null;
        return;
      }
      var regions = [];
      var years = [];
      docs.list.forEach(function (d) {
        var region = present(d.region) ? String(d.region).trim() : "";
        if (region && regions.indexOf(region) === -1) regions.push(region);
        var year = Number(d.year);
        if (Number.isInteger(year) && year > 0 && years.indexOf(year) === -1) years.push(year);
      });
      var national = regions.filter(function (r) {
        return r === NATIONAL;
      });
      regions = national.concat(regions.filter(function (r) {
        return r !== NATIONAL;
      }));
      years.sort(function (a, b) {
        return b - a;
      });
      regions.forEach(function (r) {
        self.regionSelect.appendChild(el("option", { value: r, text: r }));
      });
      years.forEach(function (y) {
        self.yearSelect.appendChild(el("option", { value: y, text: T.yearOption(y) }));
      });
      self.regionFilter.hidden = regions.length < 2;
      self.yearFilter.hidden = years.length < 2;
      self.filters.hidden = self.regionFilter.hidden && self.yearFilter.hidden;
    });
  };

  /** The filters chosen, added to a /search or /ask body (nothing when none is chosen). */
  Widget.prototype.scoped = function (body) {
    if (this.docId) return body;
    if (this.regionSelect.value) body.region = this.regionSelect.value;
    if (this.yearSelect.value) body.year = Number(this.yearSelect.value);
    return body;
  };

  /** For lookups by section: data-doc-id, else the latest report the filters leave, if any. */
  Widget.prototype.scopedDocId = function () {
    if (this.docId) return this.docId;
    var region = this.regionSelect.value;
    var year = this.yearSelect.value;
    if ((!region && !year) || !this.docList) return null;
    var best = null;
    this.docList.forEach(function (d) {
      if (region && String(d.region || "").trim() !== region) return;
      if (year && Number(d.year) !== Number(year)) return;
      if (!best || (Number(d.year) || 0) > (Number(best.year) || 0)) best = d;
    });
    return best ? best.doc_id : null;
  };

  Widget.prototype.mode = function () {
    return this.modeSearch.checked ? "search" : "ask";
  };

  // ---- talking to the API --------------------------------------------------------------

  Widget.prototype.api = function (path, body, signal) {
    var init = {
      method: body ? "POST" : "GET",
      headers: { Accept: "application/json" },
      credentials: "omit",
      mode: "cors",
      signal: signal,
    };
    if (body) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(this.base + path, init).then(
      function (res) {
        return res.json().then(
          function (data) {
            return { res: res, data: data };
          },
          function () {
            return { res: res, data: null };
          }
        ).then(function (out) {
          if (!out.res.ok) {
            var msg = out.data && out.data.error && out.data.error.message;
            var err = new Error(msg ? String(msg) : "HTTP " + out.res.status);
            err.status = out.res.status;
            throw err;
          }
          return out.data;
        });
      },
      function (err) {
        if (err && err.name === "AbortError") throw err;
        throw new Error(T.network);
      }
    );
  };

  Widget.prototype.documents = function () {
    var self = this;
    if (!this.docs) {
      this.docs = this.api("/documents").then(
        function (data) {
          var raw = Array.isArray(data) ? data : (data && data.documents) || [];
          var list = raw.filter(function (d) {
            return d && typeof d === "object" && d.doc_id;
          });
          var byId = {};
          list.forEach(function (d) {
            byId[d.doc_id] = d;
          });
          self.docList = list;
          return { list: list, byId: byId };
        },
        function () {
          self.docs = null;
          return { list: [], byId: {} };
        }
      );
    }
    return this.docs;
  };

  // ---- one query -----------------------------------------------------------------------

  Widget.prototype.run = function (raw) {
    var self = this;
    var query = String(raw || "").trim();
    if (this.controller) this.controller.abort();
    var seq = ++this.seq;
    this.reset();
    if (!this.base) {
      this.showError(T.badConfig);
      return Promise.resolve();
    }
    if (!query) {
      this.showError(T.needQuery);
      this.input.focus();
      return Promise.resolve();
    }
    this.loadFilters();
    this.controller = typeof AbortController === "function" ? new AbortController() : null;
    var signal = this.controller ? this.controller.signal : undefined;
    this.status.textContent = T.loading;
    this.results.setAttribute("aria-busy", "true");
    return this.route(query, signal)
      .then(function (view) {
        if (seq !== self.seq) return;
        self.render(view);
      })
      .catch(function (err) {
        if (seq !== self.seq || (err && err.name === "AbortError")) return;
        self.status.textContent = "";
        self.showError(err && err.message ? err.message : String(err));
      })
      .then(function () {
        if (seq === self.seq) self.results.setAttribute("aria-busy", "false");
      });
  };

  var SECTION_RE = /^[一二三四五六七八九十]{1,3}(?:（[一二三四五六七八九十]{1,3}）)*$/;
  var PASSAGE_RE = /^[a-z0-9][a-z0-9._]*(?:-[a-z0-9._]+)+-\d+$/i;

  /** Section references and passage ids are looked up directly; the rest is searched. */
  Widget.prototype.route = function (query, signal) {
    var self = this;
    var ref = query.replace(/\(/g, "（").replace(/\)/g, "）").replace(/\s+/g, "");
    if (SECTION_RE.test(ref)) {
      var docId = this.scopedDocId();
      var qs = docId ? "?doc_id=" + encodeURIComponent(docId) : "";
      return this.api("/sections/" + encodeURIComponent(ref) + qs, null, signal).then(
        function (data) {
          var passages = data.passages || [];
          return {
            kind: "section",
            query: query,
            items: passages.map(function (p) {
              return { passage: p };
            }),
            status: T.sectionFound(data.ref || ref, passages.length),
          };
        }
      );
    }
    if (PASSAGE_RE.test(query)) {
      return this.api("/passages/" + encodeURIComponent(query) + "?context=0", null, signal).then(
        function (data) {
          return { kind: "passage", query: query, items: [{ passage: data.passage }] };
        },
        function (err) {
          if (err.status !== 404) throw err;
          return self.mode() === "search" ? self.search(query, signal) : self.ask(query, signal);
        }
      );
    }
    return this.mode() === "search" ? this.search(query, signal) : this.ask(query, signal);
  };

  Widget.prototype.search = function (query, signal) {
    var terms = queryTerms(query);
    var body = this.scoped({ query: query, k: this.k, doc_id: this.docId });
    return this.api("/search", body, signal).then(function (data) {
      return {
        kind: "search",
        query: query,
        resolved: data.resolved,
        items: (data.results || []).map(function (p) {
          return { passage: p, terms: terms };
        }),
      };
    });
  };

  Widget.prototype.ask = function (query, signal) {
    var terms = queryTerms(query);
    var body = this.scoped({
      question: query, k: this.k, doc_id: this.docId, generate: true, stream: false,
    });
    return this.api("/ask", body, signal).then(function (data) {
      return {
        kind: "ask",
        query: query,
        answer: data.answer,
        answerable: data.answerable !== false,
        resolved: data.resolved,
        comparison: data.comparison,
        short: data.short_answer,
        items: (data.citations || []).map(function (c) {
          return { passage: c, n: c.n, highlights: c.highlights, terms: terms };
        }),
      };
    });
  };

  // ---- rendering -----------------------------------------------------------------------

  Widget.prototype.reset = function () {
    this.status.textContent = "";
    this.error.textContent = "";
    this.error.hidden = true;
    this.empty.hidden = true;
    this.note.hidden = true;
    clear(this.note);
    this.compare.hidden = true;
    clear(this.compareList);
    this.shortBox.hidden = true;
    clear(this.shortBox);
    this.answer.hidden = true;
    this.answer.classList.remove("rw-unanswerable");
    clear(this.answerText);
    clear(this.results);
    this.cards = {};
  };

  Widget.prototype.showError = function (message) {
    this.error.textContent = message;
    this.error.hidden = false;
  };

  Widget.prototype.render = function (view) {
    var self = this;
    var short = view.kind === "ask" && view.short && typeof view.short === "object"
      ? view.short
      : null;
    var shortShown = false;
    view.items.forEach(function (item, i) {
      var n = item.n || i + 1;
      if (short && Number(short.n) === n && !shortShown) {
        item.short = shortRange(item.passage, short);
        shortShown = item.short !== null;
      }
      var card = self.card(item, n);
      self.cards[n] = card;
      self.results.appendChild(el("li", null, [card]));
    });
    this.renderNote(view.resolved);
    if (shortShown) this.renderShort(short);
    if (view.kind === "ask" && typeof view.answer === "string" && view.answer) {
      this.renderAnswer(view.answer, view.answerable);
    }
    if (view.kind === "ask") this.renderComparison(view.comparison);
    if (!view.items.length) {
      this.status.textContent = T.empty;
      this.empty.hidden = false;
      return;
    }
    this.status.textContent =
      view.status || (view.answerable === false ? T.notAnswerable : T.found(view.items.length));
  };

  Widget.prototype.renderAnswer = function (text, answerable) {
    var self = this;
    var re = /\[(\d+)\]/g;
    var pos = 0;
    var m;
    this.answer.hidden = false;
    if (!answerable) this.answer.classList.add("rw-unanswerable");
    var pending = [];
    while ((m = re.exec(text)) !== null) {
      pending.push([m.index, m[0], Number(m[1])]);
    }
    pending.forEach(function (p) {
      if (p[0] > pos) self.answerText.appendChild(document.createTextNode(text.slice(pos, p[0])));
      pos = p[0] + p[1].length;
      self.answerText.appendChild(self.citeLink(p[2], p[1]));
    });
    if (pos < text.length) this.answerText.appendChild(document.createTextNode(text.slice(pos)));
  };

  /** The short answer, as text, with its [n]: shown only when card n holds its span. */
  Widget.prototype.renderShort = function (short) {
    var n = Number(short.n);
    this.shortBox.appendChild(el("span", { class: "rw-short-label", text: T.shortAnswer }));
    this.shortBox.appendChild(el("strong", { class: "rw-short-text", text: short.text }));
    this.shortBox.appendChild(this.citeLink(n, "[" + n + "]"));
    this.shortBox.hidden = false;
  };

  /** A [n] marker: a button that moves to card n, or plain text when there is no such card. */
  Widget.prototype.citeLink = function (n, label) {
    var self = this;
    if (!this.cards[n]) return document.createTextNode(label);
    var btn = el("button", {
      type: "button",
      class: "rw-cite",
      "data-n": n,
      "aria-label": T.gotoCitation(n),
      text: label,
    });
    btn.addEventListener("click", function () {
      self.focusCard(n);
    });
    return btn;
  };

  /** How the question was resolved to reports (resolved.reason, and what the corpus lacks). */
  Widget.prototype.renderNote = function (resolved) {
    var self = this;
    if (!resolved || typeof resolved !== "object") return;
    var lines = present(resolved.reason) ? [String(resolved.reason).trim()] : [];
    (Array.isArray(resolved.missing) ? resolved.missing : []).forEach(function (m) {
      var line = present(m) ? String(m).trim() : "";
      var known = lines.some(function (l) {
        return l.indexOf(line) !== -1;
      });
      if (line && !known) lines.push(line);
    });
    lines.forEach(function (line) {
      self.note.appendChild(el("p", { text: line }));
    });
    this.note.hidden = !lines.length;
  };

  /** One entry per report, in the API's order (oldest first): title, region · year, quote, [n]. */
  Widget.prototype.renderComparison = function (rows) {
    var self = this;
    (Array.isArray(rows) ? rows : []).forEach(function (row) {
      if (!row || typeof row !== "object") return;
      var n = Number(row.citation);
      var meta = [row.region, row.year].filter(present).map(String).join(" · ");
      var quote = el("p", { class: "rw-compare-quote" }, [
        el("span", { class: "rw-sr", text: T.compareQuote }),
        String(row.quote || ""),
      ]);
      if (Number.isInteger(n) && n > 0) quote.appendChild(self.citeLink(n, "[" + n + "]"));
      self.compareList.appendChild(
        el("li", { class: "rw-compare-item", "data-doc-id": row.doc_id }, [
          el("p", { class: "rw-compare-title", text: String(row.title || row.doc_id || "") }),
          meta ? el("p", { class: "rw-compare-meta", text: meta }) : null,
          quote,
        ])
      );
    });
    this.compare.hidden = !this.compareList.firstChild;
  };

  Widget.prototype.focusCard = function (n) {
    var card = this.cards[n];
    if (!card) return;
    card.scrollIntoView({ block: "nearest", behavior: "smooth" });
    card.focus({ preventScroll: true });
    card.classList.add("rw-flash");
    setTimeout(function () {
      card.classList.remove("rw-flash");
    }, 1600);
  };

  Widget.prototype.card = function (item, n) {
    var self = this;
    var p = item.passage;
    var text = String(p.text || "");
    var ranges = item.highlights && item.highlights.length
      ? sentenceRanges(p, item.highlights)
      : termRanges(text, item.terms || []);
    var docLine = [p.doc_title || p.doc_id || T.report, p.region, p.year]
      .filter(present)
      .map(String)
      .join(" · ");
    var where = el("div", { class: "rw-where" }, [
      el("p", { class: "rw-doc" }, [
        el("span", { class: "rw-sr", text: T.docLine }),
        el("span", { class: "rw-doc-text", text: docLine }),
      ]),
    ]);
    var path = Array.isArray(p.heading_path) ? p.heading_path : [];
    if (path.length) {
      var crumbs = el("p", { class: "rw-crumbs" }, [
        el("span", { class: "rw-sr", text: T.where }),
      ]);
      path.forEach(function (h, i) {
        if (i) {
          crumbs.appendChild(el("span", { class: "rw-sep", "aria-hidden": "true", text: "›" }));
        }
        crumbs.appendChild(el("span", { class: "rw-crumb", title: String(h), text: String(h) }));
      });
      where.appendChild(crumbs);
    }
    var body = el("p", { class: "rw-text" }, [highlighted(text, ranges, item.short || null)]);
    var idBase = "rw-card-" + n;
    var before = el("div", { class: "rw-ctx rw-before", id: idBase + "-before", hidden: true });
    var after = el("div", { class: "rw-ctx rw-after", id: idBase + "-after", hidden: true });
    var refText = [p.section, Number(p.paragraph) >= 1 ? T.paragraph(p.paragraph) : ""]
      .filter(Boolean)
      .join(" ");
    var ctxBtn = el("button", {
      type: "button",
      class: "rw-btn rw-ctx-btn",
      "aria-expanded": "false",
      "aria-controls": idBase + "-before " + idBase + "-after",
      title: T.showContextEn,
      text: T.showContext,
    });
    var copyBtn = el("button", {
      type: "button", class: "rw-btn rw-copy", title: T.copyEn, text: T.copy,
    });
    var copied = el("span", { class: "rw-copied", role: "status", "aria-live": "polite" });
    var foot = el("div", { class: "rw-foot" }, [
      el("span", { class: "rw-ref", text: refText }),
      ctxBtn,
      copyBtn,
      copied,
    ]);
    var card = el(
      "article",
      {
        class: "rw-card",
        id: idBase,
        tabindex: "-1",
        "data-passage-id": p.id,
        "data-n": n,
        "aria-label": T.card(n, refText),
      },
      [
        el("div", { class: "rw-head" }, [
          el("span", { class: "rw-n", text: "[" + n + "]" }),
          where,
        ]),
        before,
        body,
        after,
        foot,
      ]
    );
    ctxBtn.addEventListener("click", function () {
      self.toggleContext(p, ctxBtn, before, after);
    });
    copyBtn.addEventListener("click", function () {
      self.copyCitation(p, copied, foot);
    });
    return card;
  };

  Widget.prototype.toggleContext = function (p, btn, before, after) {
    var self = this;
    if (btn.getAttribute("aria-expanded") === "true") {
      before.hidden = true;
      after.hidden = true;
      btn.setAttribute("aria-expanded", "false");
      btn.textContent = T.showContext;
      return;
    }
    var show = function () {
      before.hidden = !before.firstChild;
      after.hidden = !after.firstChild;
      btn.setAttribute("aria-expanded", "true");
      btn.textContent = T.hideContext;
    };
    if (btn.getAttribute("data-loaded")) {
      show();
      return;
    }
    btn.disabled = true;
    btn.textContent = T.loadingContext;
    this.api("/passages/" + encodeURIComponent(p.id) + "?context=2")
      .then(function (data) {
        (data.before || []).forEach(function (q) {
          before.appendChild(el("p", { "data-passage-id": q.id, text: String(q.text || "") }));
        });
        (data.after || []).forEach(function (q) {
          after.appendChild(el("p", { "data-passage-id": q.id, text: String(q.text || "") }));
        });
        btn.setAttribute("data-loaded", "1");
        show();
      })
      .catch(function (err) {
        btn.textContent = T.showContext;
        self.showError(err.message);
      })
      .then(function () {
        btn.disabled = false;
      });
  };

  Widget.prototype.copyCitation = function (p, copied, foot) {
    var self = this;
    return this.documents().then(function (docs) {
      var text = citationText(p, docs.byId[p.doc_id]);
      copied.setAttribute("data-citation", text);
      var done = function () {
        copied.textContent = T.copied;
        setTimeout(function () {
          if (copied.textContent === T.copied) copied.textContent = "";
        }, 4000);
      };
      var fallback = function () {
        if (self.execCopy(text)) {
          done();
          return;
        }
        var old = foot.querySelector(".rw-manual");
        if (old) old.remove();
        var box = el("input", {
          class: "rw-manual", readonly: true, "aria-label": T.copyManual, value: text,
        });
        foot.appendChild(box);
        copied.textContent = T.copyManual;
        box.focus();
        box.select();
      };
      if (navigator.clipboard && window.isSecureContext) {
        return navigator.clipboard.writeText(text).then(done, fallback);
      }
      fallback();
    });
  };

  Widget.prototype.execCopy = function (text) {
    var area = el("textarea", { class: "rw-sr", readonly: true, "aria-hidden": "true" });
    area.value = text;
    this.root.appendChild(area);
    var ok = false;
    try {
      area.select();
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    area.remove();
    return ok;
  };

  // ---- mount where the tag stands ------------------------------------------------------

  function mount() {
    var widget = new Widget(SCRIPT);
    var parent = SCRIPT.parentNode;
    if (parent && parent !== document.head && parent.nodeName !== "HEAD") {
      parent.insertBefore(widget.host, SCRIPT);
    } else {
      document.body.appendChild(widget.host);
    }
  }

  if (SCRIPT.parentNode && SCRIPT.parentNode.nodeName === "HEAD" && !document.body) {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
