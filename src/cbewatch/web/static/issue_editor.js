/* cbewatch issue editor: Alt+↑/↓ moves the focused item (across sections at the ends) or
   the focused section heading; items can be dragged onto another place. Every key presses
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

  // Drag and drop: an item dropped on another item goes before it; dropped on a
  // section (not on an item), to the end of that section.
  let dragged = null;
  document.addEventListener("dragstart", function (event) {
    const li = event.target.closest && event.target.closest(".entry");
    if (!li) return;
    dragged = li.dataset.url;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged);
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
    const onto = event.target.closest(".entry");
    const url = dragged;
    dragged = null;
    if (onto && onto.dataset.url === url) return;
    let to = section.querySelectorAll(".entry").length;
    if (onto) {
      to = Number(onto.dataset.index);
      const from = section.querySelector('.entry[data-url="' + CSS.escape(url) + '"]');
      if (from && Number(from.dataset.index) < to) to -= 1; // it leaves its place first
    }
    const root = editor();
    refocus = { url: url };
    htmx.ajax("POST", "/issues/" + root.dataset.month + "/edit", {
      source: root, // the page's X-CSRF-Token header comes with it
      target: "#editor",
      swap: "outerHTML",
      values: {
        action: "move_entry",
        url: url,
        section: section.dataset.section,
        to: String(to),
        version: root.dataset.version,
      },
    });
  });
  document.addEventListener("dragend", function () { dragged = null; });
})();
