/* cbewatch queue keys: j/k move, a accept, r reject, e blurb, 1-9 and 0 topic (0 is the
   tenth), u undo, / search, ? the list of keys. Every key presses a real button of the item's form,
   so the page works the same without this file. */
(function () {
  "use strict";
  let current = 0;
  let advance = false;
  let busy = false; // a request is in flight or its answer is settling in
  const waiting = []; // keys pressed meanwhile, run in order once it has settled

  function items() {
    return Array.from(document.querySelectorAll("#queue .item"));
  }

  function mark(index) {
    const all = items();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (el, i) { el.classList.toggle("current", i === current); });
    all[current].scrollIntoView({ block: "nearest" });
  }

  function currentItem() {
    return items()[current];
  }

  function press(action) {
    const item = currentItem();
    const button = item && item.querySelector('button[value="' + action + '"]');
    if (button) button.click();
  }

  function pickTopic(number) {
    const item = currentItem();
    const select = item && item.querySelector('select[name="topic"]');
    if (!select || number >= select.options.length) return;
    select.selectedIndex = number;
    press("topic");
  }

  function toggleKeys() {
    const dialog = document.getElementById("keys");
    if (!dialog) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  function onTypingKey(event) {
    const field = event.target;
    if (event.key === "Escape") {
      field.blur();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && field.name === "blurb") {
      event.preventDefault();
      const button = field.form.querySelector('button[value="blurb"]');
      if (button) button.click();
    }
  }

  const KEYS = {
    j: function () { mark(current + 1); },
    k: function () { mark(current - 1); },
    a: function () { advance = true; press("accept"); },
    r: function () { advance = true; press("reject"); },
    u: function () { press("undo"); },
    e: function () {
      const item = currentItem();
      const blurb = item && item.querySelector('textarea[name="blurb"]');
      if (blurb) {
        blurb.focus();
        // A draft nobody saved comes selected: typing replaces it, an arrow key edits it.
        if (blurb.dataset.draft) blurb.select();
      }
    },
    "/": function () {
      const search = document.getElementById("search");
      if (search) search.focus();
    },
    "?": toggleKeys,
  };

  document.addEventListener("keydown", function (event) {
    if (event.target.closest && event.target.closest("input, textarea, select")) {
      onTypingKey(event);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (/^[0-9]$/.test(event.key)) {
      event.preventDefault();
      const number = Number(event.key) || 10; // 0 is the tenth topic, as on a phone pad
      whenIdle(function () { pickTopic(number); });
      return;
    }
    const action = KEYS[event.key];
    if (action) {
      event.preventDefault();
      whenIdle(action);
    }
  });

  // An item just swapped in is not wired to htmx until it settles: a button pressed
  // before then would post the plain form and reload the page.
  function whenIdle(action) {
    if (busy) waiting.push(action); else action();
  }

  function settled() {
    busy = false;
    while (waiting.length && !busy) waiting.shift()();
  }

  document.addEventListener("click", function (event) {
    const item = event.target.closest && event.target.closest("#queue .item");
    if (item) {
      const index = items().indexOf(item);
      if (index >= 0) { current = index; items().forEach(function (el, i) { el.classList.toggle("current", i === current); }); }
    }
    if (event.target.id === "show-keys") toggleKeys();
  });

  // After htmx swaps an item in place, keep the highlight; after a decision, move on,
  // also when it was refused as stale (409): the item now shows who decided it and how,
  // and the curator's next decision belongs to the next item.
  document.addEventListener("htmx:beforeRequest", function () { busy = true; });
  document.addEventListener("htmx:afterSettle", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    const decided = status < 300 || status === 409;
    mark(advance && decided ? current + 1 : current);
    advance = false;
    settled();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful && !(event.detail.xhr && event.detail.xhr.status === 409)) {
      advance = false;
      settled();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    mark(0);
    document.body.dataset.keys = "ready";
  });
})();
