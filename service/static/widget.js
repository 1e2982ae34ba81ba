/*
 * Report citation widget: search the report, see the exact passage and its place,
 * open the surrounding text and copy a citation.
 *
 * Embed with one line; the widget mounts where the tag stands, inside a shadow root:
 *   <script src="https://HOST/widget.js" data-api="https://HOST"></script>
 * Optional attributes: data-k (results, 1..50), data-doc-id (one document only),
 * data-mode ("ask", the default, or "search").
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
    results: "结果",
    found: function (n) {
      return "找到 " + n + " 段相关内容。";
    },
    sectionFound: function (ref, n) {
      return "章节 " + ref + "，共 " + n + " 段。";
    },
    notAnswerable: "报告中没有找到能直接回答的内容，下面是最接近的段落。",
    report: "报告",
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

  /** Text split into text nodes and <mark> elements; overlapping ranges merge. */
  function highlighted(text, ranges) {
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
      if (r[0] > pos) frag.appendChild(document.createTextNode(text.slice(pos, r[0])));
      frag.appendChild(el("mark", { class: r[2] === "hl" ? "rw-hl" : "rw-term" }, [
        text.slice(r[0], r[1]),
      ]));
      pos = r[1];
    });
    if (pos < text.length) frag.appendChild(document.createTextNode(text.slice(pos)));
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
      el("p", { id: "rw-hint", class: "rw-hint", text: T.hint }),
    ]);
    this.status = el("p", { class: "rw-status", role: "status", "aria-live": "polite" });
    this.error = el("p", { class: "rw-error", role: "alert", hidden: true });
    this.empty = el("p", { class: "rw-empty", hidden: true, text: T.empty });
    this.answerText = el("p", { class: "rw-answer-text" });
    this.answer = el("section", { class: "rw-answer", "aria-label": T.answer, hidden: true }, [
      el("h2", { text: T.answer }),
      this.answerText,
    ]);
    this.results = el("ol", { class: "rw-results", "aria-label": T.results, "aria-busy": "false" });
    this.root.appendChild(
      el("div", { class: "rw", lang: "zh-CN" }, [
        this.form, this.status, this.error, this.empty, this.answer, this.results,
      ])
    );
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.run(self.input.value);
    });
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
          var list = Array.isArray(data) ? data : (data && data.documents) || [];
          var byId = {};
          list.forEach(function (d) {
            if (d && d.doc_id) byId[d.doc_id] = d;
          });
          return byId;
        },
        function () {
          self.docs = null;
          return {};
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
      var qs = this.docId ? "?doc_id=" + encodeURIComponent(this.docId) : "";
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
    return this.api("/search", { query: query, k: this.k, doc_id: this.docId }, signal).then(
      function (data) {
        return {
          kind: "search",
          query: query,
          items: (data.results || []).map(function (p) {
            return { passage: p, terms: terms };
          }),
        };
      }
    );
  };

  Widget.prototype.ask = function (query, signal) {
    var terms = queryTerms(query);
    var body = { question: query, k: this.k, doc_id: this.docId, generate: true, stream: false };
    return this.api("/ask", body, signal).then(function (data) {
      return {
        kind: "ask",
        query: query,
        answer: data.answer,
        answerable: data.answerable !== false,
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
    view.items.forEach(function (item, i) {
      var n = item.n || i + 1;
      var card = self.card(item, n);
      self.cards[n] = card;
      self.results.appendChild(el("li", null, [card]));
    });
    if (view.kind === "ask" && typeof view.answer === "string" && view.answer) {
      this.renderAnswer(view.answer, view.answerable);
    }
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
      if (!self.cards[p[2]]) {
        self.answerText.appendChild(document.createTextNode(p[1]));
        return;
      }
      var btn = el("button", {
        type: "button",
        class: "rw-cite",
        "data-n": p[2],
        "aria-label": T.gotoCitation(p[2]),
        text: p[1],
      });
      btn.addEventListener("click", function () {
        self.focusCard(p[2]);
      });
      self.answerText.appendChild(btn);
    });
    if (pos < text.length) this.answerText.appendChild(document.createTextNode(text.slice(pos)));
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
    var crumbs = el("p", { class: "rw-crumbs" }, [el("span", { class: "rw-sr", text: T.where })]);
    [p.doc_title || T.report].concat(p.heading_path || []).forEach(function (h, i) {
      if (i) crumbs.appendChild(el("span", { class: "rw-sep", "aria-hidden": "true", text: "›" }));
      crumbs.appendChild(el("span", { class: "rw-crumb", title: String(h), text: String(h) }));
    });
    var body = el("p", { class: "rw-text" }, [highlighted(text, ranges)]);
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
        el("div", { class: "rw-head" }, [el("span", { class: "rw-n", text: "[" + n + "]" }), crumbs]),
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
      var text = citationText(p, docs[p.doc_id]);
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
