// Live hearing pages: follow the /hearings Socket.IO namespace and keep the page current.
//
// Every event carries a sequence number. The page starts from the number it was rendered at
// (data-last-seq) and asks the server for everything after the last number it has applied
// whenever it connects or reconnects, so nothing is missed; events it already has are
// ignored, so nothing is shown twice. Events meant for others leave gaps in the numbers: a
// gap that does not fill within half a second is settled by asking the server again. An
// answer that does not come (the connection dropped, the server restarted) is given up after
// a while, so the next connection asks again.
// Without JavaScript (or without a connection) the forms post to the server as usual.
(function () {
  "use strict";

  const root = document.getElementById("live");
  if (!root || typeof window.io !== "function") {
    return;
  }
  const strings = document.getElementById("live-strings").dataset;
  const userId = root.dataset.user ? Number(root.dataset.user) : null;
  const canRecord = root.dataset.canRecord === "true";
  const csrfToken = root.dataset.csrf;
  const timeZone = root.dataset.timezone || undefined;
  const notesList = document.getElementById("notes");
  const onlyKind = notesList ? notesList.dataset.onlyKind : undefined;
  const template = document.getElementById("note-template");
  const statusLine = document.getElementById("live-status");
  const announcer = document.getElementById("note-announcer");

  const CATCH_UP_TIMEOUT_MS = 15000;
  let lastSeq = Number(root.dataset.lastSeq) || 0;
  const waiting = new Map();
  let gapTimer = null;
  let catchingUp = false;
  // Counts connections, so that an answer meant for an earlier one is not applied.
  let connection = 0;
  let timer = null;
  let clockOffset = 0;

  const socket = window.io("/hearings", {
    auth: { hearing: Number(root.dataset.hearing), csrf_token: csrfToken },
  });

  // --- connection ------------------------------------------------------------------------

  function setStatus(state, text) {
    statusLine.dataset.state = state;
    statusLine.textContent = text;
  }

  socket.on("connect", function () {
    connection += 1;
    catchingUp = false;
    setStatus("live", strings.live);
    catchUp();
  });
  socket.on("disconnect", function () {
    connection += 1;
    catchingUp = false;
    setStatus("offline", strings.offline);
  });
  socket.on("connect_error", function (error) {
    const refusal = error && error.data && error.data.error;
    setStatus("offline", refusal ? strings.refused + " " + refusal : strings.offline);
  });
  socket.on("state", function (state) {
    showFloor(state, true);
  });
  ["note_created", "note_updated", "speaker_changed", "timer", "hearing_ended"].forEach(
    function (name) {
      socket.on(name, receive);
    });

  // --- ordering: apply each event once, in sequence ----------------------------------------

  function catchUp() {
    if (catchingUp) {
      return;
    }
    catchingUp = true;
    const asked = connection;
    socket.timeout(CATCH_UP_TIMEOUT_MS).emit("catch_up", { after_seq: lastSeq },
      function (error, answer) {
        if (asked === connection) {
          caughtUp(error, answer);
        }
      });
  }

  function caughtUp(error, answer) {
    catchingUp = false;
    if (error) {
      if (socket.connected) {
        catchUp();
      }
      return;
    }
    if (!answer || !answer.ok) {
      return;
    }
    answer.events.forEach(function (envelope) {
      if (envelope.seq > lastSeq) {
        lastSeq = envelope.seq;
        apply(envelope, false);
      }
    });
    if (answer.more) {
      catchUp();
      return;
    }
    // Every event up to last_seq that this user may see was in the answer: the numbers
    // still missing belong to others.
    lastSeq = Math.max(lastSeq, answer.last_seq);
    drain();
  }

  function receive(envelope) {
    if (envelope.seq <= lastSeq) {
      return;
    }
    waiting.set(envelope.seq, envelope);
    drain();
  }

  function drain() {
    waiting.forEach(function (_envelope, seq) {
      if (seq <= lastSeq) {
        waiting.delete(seq);
      }
    });
    while (waiting.has(lastSeq + 1)) {
      const envelope = waiting.get(lastSeq + 1);
      waiting.delete(lastSeq + 1);
      lastSeq = envelope.seq;
      apply(envelope, true);
    }
    if (waiting.size && gapTimer === null) {
      gapTimer = window.setTimeout(function () {
        gapTimer = null;
        catchUp();
      }, 500);
    } else if (!waiting.size && gapTimer !== null) {
      window.clearTimeout(gapTimer);
      gapTimer = null;
    }
  }

  // `fresh` is false for events replayed by a catch-up: their server_time is old, so they
  // must not reset the correction of this browser's clock.
  function apply(envelope, fresh) {
    const payload = envelope.payload;
    switch (envelope.type) {
      case "note_created":
        addNote(payload);
        break;
      case "note_updated":
        updateNote(payload);
        break;
      case "speaker_changed":
        showFloor(payload, fresh);
        break;
      case "timer":
        showTimer(payload, fresh);
        break;
      case "hearing_ended":
        setStatus("offline", strings.ended);
        showTimer(null, fresh);
        break;
    }
  }

  // --- notes -------------------------------------------------------------------------------

  function slot(element, name) {
    return element.querySelector('[data-slot="' + name + '"]');
  }

  function setText(element, name, text) {
    const target = slot(element, name);
    if (target) {
      target.textContent = text;
    }
  }

  function formatTime(iso) {
    return new Date(iso).toLocaleTimeString(document.documentElement.lang, {
      hour: "2-digit", minute: "2-digit", hour12: false, timeZone: timeZone,
    });
  }

  function canEdit(note) {
    return note.kind === "record" ? canRecord : note.author_id === userId;
  }

  function visibilityLabel(note) {
    if (note.kind === "question") {
      return strings.question;
    }
    return { staff: strings.shared, private: strings.private }[note.visibility] || "";
  }

  function fillNote(item, note) {
    item.id = "note-" + note.id;
    item.className = "note note-" + note.kind;
    item.dataset.noteId = note.id;
    item.dataset.revision = note.revision;
    item.dataset.kind = note.kind;
    const time = slot(item, "time");
    time.dateTime = note.created_at;
    time.textContent = formatTime(note.created_at);
    setText(item, "context", [note.agenda_item, note.speaker].filter(Boolean).join("："));
    setText(item, "author", note.author);
    setText(item, "clauses", note.clause_labels && note.clause_labels.length
      ? "· " + note.clause_labels.join("、") : "");
    const badge = slot(item, "visibility");
    if (badge) {
      badge.textContent = visibilityLabel(note);
      badge.hidden = !badge.textContent;
    }
    const revised = slot(item, "revised");
    if (revised) {
      revised.hidden = note.revision < 2;
    }
    setText(item, "body", note.body);
    const form = item.querySelector(".edit-note-form");
    if (form) {
      const details = form.closest("details");
      if (!canEdit(note)) {
        details.remove();
        return;
      }
      form.action = form.action.replace(/\/notes\/\d+$/, "/notes/" + note.id);
      const textarea = form.elements.body;
      textarea.id = "edit-" + note.id;
      form.querySelector("label").htmlFor = textarea.id;
      // Someone editing keeps the revision they started from, so a clash is reported.
      if (!details.open) {
        textarea.value = note.body;
        form.elements.revision.value = note.revision;
      }
    }
  }

  function addNote(note) {
    if (!notesList || document.getElementById("note-" + note.id)) {
      return;
    }
    if (onlyKind && note.kind !== onlyKind) {
      return;
    }
    const item = template.content.firstElementChild.cloneNode(true);
    fillNote(item, note);
    notesList.appendChild(item);
    const empty = document.getElementById("no-notes");
    if (empty) {
      empty.hidden = true;
    }
    const count = document.getElementById("note-count");
    if (count) {
      count.textContent = notesList.children.length;
    }
    if (announcer) {
      announcer.textContent = strings.newNote + " " + note.body.slice(0, 80);
    }
  }

  function updateNote(note) {
    const item = document.getElementById("note-" + note.id);
    if (!item) {
      addNote(note);
      return;
    }
    fillNote(item, note);
    if (announcer) {
      announcer.textContent = strings.updatedNote + " " + note.body.slice(0, 80);
    }
  }

  // --- the floor and the timer --------------------------------------------------------------

  function showFloor(state, fresh) {
    const speaker = document.getElementById("floor-speaker");
    if (speaker) {
      speaker.textContent = state.speaker ? state.speaker.name : strings.nobody;
    }
    const agenda = document.getElementById("floor-agenda");
    if (agenda) {
      agenda.textContent = state.agenda_item || "";
    }
    document.querySelectorAll("#running-order [data-speaker-id]").forEach(function (item) {
      const current = state.speaker && Number(item.dataset.speakerId) === state.speaker.id;
      item.classList.toggle("current", Boolean(current));
      if (current) {
        item.setAttribute("aria-current", "true");
      } else {
        item.removeAttribute("aria-current");
      }
    });
    showTimer(state.timer || null, fresh);
  }

  function clock(seconds) {
    const whole = Math.floor(Math.abs(seconds));
    return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
  }

  function showTimer(state, fresh) {
    timer = state;
    if (state && fresh) {
      clockOffset = Date.parse(state.server_time) - Date.now();
    }
    tick();
  }

  function tick() {
    const text = document.getElementById("timer-text");
    const meter = document.getElementById("timer-meter");
    if (!text) {
      return;
    }
    const box = document.getElementById("timer");
    if (!timer) {
      text.textContent = "";
      return;
    }
    let remaining = timer.allowed_seconds;
    if (timer.running) {
      const now = Date.now() + clockOffset;
      remaining = timer.allowed_seconds - (now - Date.parse(timer.started_at)) / 1000;
      text.textContent = (remaining >= 0 ? strings.left : strings.over)
        .replace("{time}", clock(remaining));
    } else {
      text.textContent = strings.notStarted.replace("{time}", clock(remaining));
    }
    box.classList.toggle("timer-over", timer.running && remaining < 0);
    if (meter) {
      meter.max = timer.allowed_seconds;
      meter.value = Math.max(remaining, 0);
    }
  }

  window.setInterval(tick, 1000);

  // --- forms over the socket ----------------------------------------------------------------

  function payloadOf(form, submitter) {
    const data = new FormData(form);
    const payload = { csrf_token: csrfToken };
    data.forEach(function (value, key) {
      if (key === "clause_lineage_ids") {
        (payload[key] = payload[key] || []).push(Number(value));
      } else if (key !== "csrf_token") {
        payload[key] = value;
      }
    });
    if (submitter && submitter.name) {
      payload[submitter.name] = submitter.value;
    }
    return payload;
  }

  function send(form, event, payload, done) {
    const error = slot(form, "error");
    const buttons = form.querySelectorAll("button");
    buttons.forEach(function (button) { button.disabled = true; });
    socket.emit(event, payload, function (answer) {
      buttons.forEach(function (button) { button.disabled = false; });
      if (error) {
        error.hidden = answer.ok;
        error.textContent = answer.ok ? "" : answer.error;
      }
      if (answer.ok) {
        receive(answer.event);
        done();
      }
    });
  }

  document.querySelectorAll("form.live-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!socket.connected) {
        return;
      }
      event.preventDefault();
      send(form, form.dataset.event, payloadOf(form, event.submitter), function () {
        if (form.dataset.reset === "true") {
          form.elements.body.value = "";
          form.elements.body.focus();
        }
      });
    });
  });

  if (notesList) {
    notesList.addEventListener("submit", function (event) {
      const form = event.target;
      if (!form.classList.contains("edit-note-form") || !socket.connected) {
        return;
      }
      event.preventDefault();
      const payload = payloadOf(form);
      payload.note_id = Number(form.closest("[data-note-id]").dataset.noteId);
      payload.revision = Number(payload.revision);
      send(form, "edit_note", payload, function () {
        form.closest("details").open = false;
        const item = form.closest("[data-note-id]");
        form.elements.revision.value = item.dataset.revision;
      });
    });
  }
})();
