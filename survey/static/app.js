/* Progressive enhancement only: every page works without this file.
   - keeps answers in localStorage until the receipt arrives (survives reloads),
   - shows/hides questions whose condition depends on this page (skip logic),
   - makes "none of these" exclusive, blocks a double tap on submit,
   - focuses the error summary (or the field in error) of a page back with errors,
   - on Back/Forward: frees a submit button blocked by the last tap, and once the
     questionnaire has ended in this tab, leaves its pages for the landing page
     (where Clear-Site-Data did not drop them: older browsers). */
(function () {
  "use strict";
  var store = null, tab = null;
  try { store = window.localStorage; } catch (e) { store = null; }
  try { tab = window.sessionStorage; } catch (e) { tab = null; }

  function val(form, name) {
    var els = form.elements[name];
    if (!els) return null;
    if (els.length !== undefined && !els.tagName) {
      var out = [];
      for (var i = 0; i < els.length; i++) if (els[i].checked) out.push(els[i].value);
      return els[0].type === "checkbox" ? out : (out[0] || null);
    }
    if (els.type === "checkbox") return els.checked ? [els.value] : [];
    if (els.type === "radio") return els.checked ? els.value : null;
    return els.value || null;
  }

  function holds(form, c) {
    if (!c) return true;
    if (c.all) return c.all.every(function (s) { return holds(form, s); });
    if (c.any) return c.any.some(function (s) { return holds(form, s); });
    var v = val(form, c.question);
    if (v === null) return false;
    var list = Array.isArray(v) ? v : [v];
    if ("equals" in c) return list.indexOf(String(c.equals)) >= 0 && !Array.isArray(v);
    if ("not_equals" in c) return list.indexOf(String(c.not_equals)) < 0;
    if ("in" in c) return c["in"].map(String).indexOf(String(v)) >= 0;
    if ("includes" in c) return list.indexOf(String(c.includes)) >= 0;
    return true;
  }

  function applyConditions(form) {
    var sets = form.querySelectorAll("[data-show-if]");
    for (var i = 0; i < sets.length; i++) {
      var c = JSON.parse(sets[i].getAttribute("data-show-if"));
      sets[i].hidden = !holds(form, c);
      var note = sets[i].querySelector(".cond");
      if (note) note.hidden = true;
    }
  }

  function save(form, key) {
    if (!store) return;
    var data = {};
    try { data = JSON.parse(store.getItem(key) || "{}"); } catch (e) { data = {}; }
    var els = form.elements;
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.name || el.type === "hidden" || el.type === "submit") continue;
      data[el.name] = val(form, el.name);
    }
    try { store.setItem(key, JSON.stringify(data)); } catch (e) { /* quota full: ignore */ }
  }

  // Fills only what the server's page leaves empty: what the page shows (answers
  // checked, or kept unchecked by 上一页 in the signed form state) always wins.
  function restore(form, key) {
    if (!store) return;
    var data;
    try { data = JSON.parse(store.getItem(key) || "{}"); } catch (e) { return; }
    var els = form.elements;
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.name || !(el.name in data) || el.type === "hidden") continue;
      var v = data[el.name];
      if (el.type === "radio" || el.type === "checkbox") {
        if (val(form, el.name) && (val(form, el.name).length || typeof val(form, el.name) === "string")) continue;
        var list = Array.isArray(v) ? v : [v];
        el.checked = list.indexOf(el.value) >= 0;
      } else if (!el.value && v) {
        el.value = v;
      }
    }
  }

  function exclusive(form, target) {
    if (target.type !== "checkbox" || !target.checked) return;
    var group = form.elements[target.name];
    for (var i = 0; i < group.length; i++) {
      var other = group[i];
      if (other === target) continue;
      if (target.hasAttribute("data-exclusive") || other.hasAttribute("data-exclusive")) other.checked = false;
    }
  }

  window.addEventListener("pageshow", function (ev) {
    var form = document.querySelector("form[data-save]");
    if (!form) return;
    var nav = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    var fresh = !ev.persisted && (!nav || nav.type === "navigate");
    var ended = "survey:ended:" + form.getAttribute("data-save");
    if (fresh) {  // a page the server just sent for a form filled in: a questionnaire under way
      if (tab) { try { tab.removeItem(ended); } catch (e) {} }
      return;
    }
    // From history, or a reload that sent an earlier page's form again ("resubmit"
    // after Back): a questionnaire that has ended in this tab is not shown again.
    if (tab && tab.getItem(ended) && form.getAttribute("data-landing")) {
      window.location.replace(form.getAttribute("data-landing"));
      return;
    }
    // Back to a page kept whole (back-forward cache): its last tap had blocked it.
    form.removeAttribute("data-sent");
    var once = form.querySelectorAll("[data-once]");
    for (var i = 0; i < once.length; i++) once[i].disabled = false;
  });

  document.addEventListener("DOMContentLoaded", function () {
    // A page back with errors: focus their summary, or the field in error (autofocus
    // does it where supported).
    var summary = document.getElementById("error-summary") || document.querySelector("[autofocus]");
    if (summary && document.activeElement !== summary) summary.focus();
    // "Your answers are still on this phone": true only where this script keeps them.
    var kept = document.querySelectorAll("[data-if-saved], [data-unless-saved]");
    for (var k = 0; store && k < kept.length; k++) kept[k].hidden = !kept[k].hasAttribute("data-if-saved");
    var done = document.querySelector("[data-clear]");
    if (done && store) { try { store.removeItem("survey:" + done.getAttribute("data-clear")); } catch (e) {} }
    if (done && tab) { try { tab.setItem("survey:ended:" + done.getAttribute("data-clear"), "1"); } catch (e) {} }
    var form = document.querySelector("form[data-save]");
    if (!form) return;
    var key = "survey:" + form.getAttribute("data-save");
    restore(form, key);
    applyConditions(form);
    form.addEventListener("change", function (ev) {
      exclusive(form, ev.target);
      applyConditions(form);
      save(form, key);
    });
    form.addEventListener("input", function () { save(form, key); });
    form.addEventListener("submit", function (ev) {
      save(form, key);
      var btn = form.querySelector("[data-once]");
      if (form.getAttribute("data-sent")) { ev.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      if (btn) setTimeout(function () { btn.disabled = true; }, 0);
      // If the network drops, let the resident try again (the server stores one copy).
      setTimeout(function () { form.removeAttribute("data-sent"); if (btn) btn.disabled = false; }, 8000);
    });
  });
})();
