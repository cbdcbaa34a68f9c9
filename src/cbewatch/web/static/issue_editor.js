/* cbewatch issue editor: Alt+↑/↓ moves the focused item (across sections at the ends) or
   the focused section heading; items and section headings can be dragged elsewhere. Every key presses
   a real button, and a drop posts the same form the "Move" button does, so the editor
   works without this file. Focus follows the moved item after the page part is swapped. */
(function () {
  "use strict";
  let refocus = null; // what to focus once htmx has swapped the editor in

  function editor() { return document.getElementById("editor"); }

  function press(scope, selector) {
    const button = scope.querySelector(selector);
    if (button && !button.disabled) { button.click(); return true; }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    const target = event.target;
    const up = event.key === "ArrowUp";
    if (target.classList && target.classList.contains("entry")) {
      if (press(target, up ? "button.entry-up" : "button.entry-down")) {
        refocus = { url: target.dataset.url };
        event.preventDefault();
      }
    } else if (target.classList && target.classList.contains("section-name")) {
      const section = target.closest(".issue-section");
      if (section && press(section, up ? "button.section-up" : "button.section-down")) {
        refocus = { section: section.dataset.section };
        event.preventDefault();
      }
    }
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (!refocus) return;
    let el = null;
    const root = editor();
    if (!root) return;
    if (refocus.url) {
      el = Array.from(root.querySelectorAll(".entry")).find(function (li) {
        return li.dataset.url === refocus.url;
      });
    } else if (refocus.section) {
      const section = Array.from(root.querySelectorAll(".issue-section")).find(function (s) {
        return s.dataset.section === refocus.section;
      });
      el = section && section.querySelector(".section-name");
    }
    refocus = null;
    if (el) el.focus();
  });

  // Drag and drop: an item dropped on another item goes before it, dropped on a section
  // (not on an item) to the end of that section; a section's heading dropped on another
  // section takes that section's place.
  let dragged = null; // {url} or {section}
  document.addEventListener("dragstart", function (event) {
    const li = event.target.closest && event.target.closest(".entry");
    const head = event.target.closest && event.target.closest(".section-name");
    if (li) dragged = { url: li.dataset.url };
    else if (head) dragged = { section: head.closest(".issue-section").dataset.section };
    else return;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.url || dragged.section);
  });
  document.addEventListener("dragover", function (event) {
    if (dragged && event.target.closest && event.target.closest(".issue-section")) {
      event.preventDefault();
    }
  });
  document.addEventListener("drop", function (event) {
    const section = event.target.closest && event.target.closest(".issue-section");
    if (!dragged || !section) return;
    event.preventDefault();
    const what = dragged;
    dragged = null;
    if (what.section) {
      if (what.section === section.dataset.section) return;
      refocus = { section: what.section };
      post({ action: "move_section", section: what.section, to: section.dataset.index });
      return;
    }
    const onto = event.target.closest(".entry");
    if (onto && onto.dataset.url === what.url) return;
    let to = section.querySelectorAll(".entry").length;
    if (onto) {
      to = Number(onto.dataset.index);
      const from = section.querySelector('.entry[data-url="' + CSS.escape(what.url) + '"]');
      if (from && Number(from.dataset.index) < to) to -= 1; // it leaves its place first
    }
    refocus = { url: what.url };
    post({ action: "move_entry", url: what.url, section: section.dataset.section, to: String(to) });
  });

  function post(values) {
    const root = editor();
    values.version = root.dataset.version;
    htmx.ajax("POST", "/issues/" + root.dataset.month + "/edit", {
      source: root, // the page's X-CSRF-Token header comes with it
      target: "#editor",
      swap: "outerHTML",
      values: values,
    });
  }
  document.addEventListener("dragend", function () { dragged = null; });
})();
