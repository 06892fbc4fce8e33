
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("llmpath-data").textContent);
  var map = document.getElementById("map");
  var panel = document.getElementById("panel");
  var nodes = {};
  var edgesOf = {};
  var opener = null;

  Array.prototype.forEach.call(map.querySelectorAll("g.topic"), function (node) {
    nodes[node.getAttribute("data-topic")] = node;
  });
  Array.prototype.forEach.call(map.querySelectorAll("path.edge"), function (edge) {
    [edge.getAttribute("data-from"), edge.getAttribute("data-to")].forEach(function (id) {
      (edgesOf[id] = edgesOf[id] || []).push(edge);
    });
  });

  function topicOf(target) {
    return target && target.closest ? target.closest("g.topic") : null;
  }

  function clear() {
    map.classList.remove("highlighting");
    Array.prototype.forEach.call(map.querySelectorAll(".current, .related, .lit"), function (el) {
      el.classList.remove("current", "related", "lit");
    });
  }

  function highlight(node) {
    clear();
    var id = node.getAttribute("data-topic");
    map.classList.add("highlighting");
    node.classList.add("current");
    (edgesOf[id] || []).forEach(function (edge) {
      edge.classList.add("lit");
      edge.parentNode.appendChild(edge); // drawn above the other edges
      var from = edge.getAttribute("data-from");
      var other = nodes[from === id ? edge.getAttribute("data-to") : from];
      if (other) other.classList.add("related");
    });
  }

  map.addEventListener("mouseover", function (event) {
    var node = topicOf(event.target);
    if (node) highlight(node);
  });
  map.addEventListener("mouseout", function (event) {
    var node = topicOf(event.target);
    if (node && !node.contains(event.relatedTarget)) clear();
  });
  map.addEventListener("focusin", function (event) {
    var node = topicOf(event.target);
    if (node) highlight(node);
  });
  map.addEventListener("focusout", clear);
  map.addEventListener("click", function (event) {
    var node = topicOf(event.target);
    if (node) open(node);
  });
  map.addEventListener("keydown", function (event) {
    var node = topicOf(event.target);
    if (node && (event.key === "Enter" || event.key === " " || event.key === "Spacebar")) {
      event.preventDefault();
      open(node);
    }
  });
  document.addEventListener("keydown", function (event) {
    if ((event.key === "Escape" || event.key === "Esc") && !panel.hidden) {
      event.preventDefault();
      close();
    }
  });
  document.getElementById("panel-close").addEventListener("click", close);

  function text(id, value) {
    document.getElementById(id).textContent = value || "";
  }

  function part(name, items, fill) {
    var list = panel.querySelector("[data-part=" + name + "] ul");
    list.textContent = "";
    (items || []).forEach(function (item) {
      var li = document.createElement("li");
      fill(li, item);
      list.appendChild(li);
    });
    list.parentNode.hidden = !items || items.length === 0;
  }

  function plain(li, item) {
    li.textContent = item;
  }

  function link(li, resource) {
    if (!/^https?:\/\//i.test(resource.url)) {
      li.textContent = resource.title;
      return;
    }
    var a = document.createElement("a");
    a.href = resource.url;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    a.textContent = resource.title;
    li.appendChild(a);
  }

  function reference(li, ref) {
    // [id, title, state, shown on this map]
    var mark = (data.marks[ref[2]] || "") + " ";
    var label = ref[1] + " (" + (data.states[ref[2]] || ref[2]) + ")";
    if (ref[3] && nodes[ref[0]]) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = mark + label;
      button.addEventListener("click", function () {
        nodes[ref[0]].focus();
        open(nodes[ref[0]], true);
      });
      li.appendChild(button);
    } else {
      li.textContent = mark + label;
    }
  }

  function note(li, item) {
    var date = document.createElement("span");
    date.className = "note-date";
    date.textContent = (item.at || "") + " ";
    li.appendChild(date);
    li.appendChild(document.createTextNode(item.text));
  }

  function open(node, keepOpener) {
    var id = node.getAttribute("data-topic");
    var topic = data.topics[id];
    if (!topic) return;
    if (!keepOpener || !opener) opener = node;
    text("panel-state", (data.marks[topic.state] || "") + " " + (data.states[topic.state] || topic.state));
    text("panel-title", topic.title);
    var meta = [topic.phase];
    if (topic.kind && topic.kind !== "topic") meta.push(topic.kind);
    if (topic.hours) meta.push("about " + topic.hours + " h");
    if (topic.difficulty) meta.push(topic.difficulty);
    text("panel-meta", meta.join(" · "));
    var dates = [];
    if (topic.started) dates.push("started " + topic.started);
    if (topic.finished) dates.push((topic.state === "skipped" ? "skipped " : "finished ") + topic.finished);
    text("panel-dates", dates.join(" · "));
    document.getElementById("panel-dates").hidden = dates.length === 0;
    text("panel-summary", topic.summary);
    part("concepts", topic.concepts, plain);
    part("tools", topic.tools, plain);
    part("resources", topic.resources, link);
    part("requires", topic.requires, reference);
    part("unlocks", topic.unlocks, reference);
    part("notes", topic.notes, note);
    panel.hidden = false;
    panel.scrollTop = 0;
    document.getElementById("panel-title").focus();
  }

  function close() {
    panel.hidden = true;
    if (opener) opener.focus();
    opener = null;
  }
})();
