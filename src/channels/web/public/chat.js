/* The web chat: draws the engine's replies (text, choices, image, location and phone requests) and sends events.
   Plain JavaScript, no build step. The transcript is kept in localStorage so a reload loses nothing. */
(function () {
  'use strict';
  var LOG_KEY = 'cgb.transcript';
  var MAX_KEPT = 120;
  var log = document.getElementById('log');
  var form = document.getElementById('composer');
  var input = document.getElementById('text');
  var statusBox = document.getElementById('status');
  var busy = false;

  // Event ids only tell a retry from a new message; who is talking is known from the cookie the server issued.
  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, '');
    var s = '';
    for (var i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
    return s;
  }

  var transcript = [];
  try { transcript = JSON.parse(localStorage.getItem(LOG_KEY) || '[]'); } catch (e) { transcript = []; }

  function keep(entry) {
    transcript.push(entry);
    if (transcript.length > MAX_KEPT) transcript = transcript.slice(-MAX_KEPT);
    try { localStorage.setItem(LOG_KEY, JSON.stringify(transcript)); } catch (e) { /* storage full: the chat still works */ }
  }

  function bubble(text, who) {
    var div = document.createElement('div');
    div.className = 'msg ' + who;
    div.textContent = text;
    log.appendChild(div);
    return div;
  }

  function disableOldButtons() {
    var old = log.querySelectorAll('.options button');
    for (var i = 0; i < old.length; i++) old[i].disabled = true;
  }

  function optionButton(label, onClick, className) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    if (className) b.className = className;
    b.addEventListener('click', onClick);
    return b;
  }

  // A guidance picture: the card, its title under it, and all it says as alt text.
  function renderPicture(r) {
    var d = bubble(r.caption || '', 'bot');
    var img = document.createElement('img');
    img.src = r.url; img.alt = r.alt || r.caption || ''; img.loading = 'lazy';
    d.insertBefore(img, d.firstChild);
  }

  function drawReply(r, live) {
    if (r.kind === 'text') { bubble(r.text, 'bot'); return; }
    if (r.kind === 'picture') { renderPicture(r); return; }
    if (r.kind === 'image') {
      var d = bubble(r.caption || '', 'bot');
      var img = document.createElement('img');
      img.src = r.url; img.alt = r.caption || '';
      d.insertBefore(img, d.firstChild);
      return;
    }
    if (r.kind === 'document') {
      var dd = bubble(r.caption || '', 'bot');
      if (r.imageUrl) {
        var pic = document.createElement('img');
        pic.src = r.imageUrl; pic.alt = r.fileName;
        dd.insertBefore(pic, dd.firstChild);
      }
      var a = document.createElement('a');
      a.href = r.url; a.download = r.fileName; a.textContent = '⬇ ' + r.fileName; a.className = 'download';
      dd.appendChild(document.createElement('br'));
      dd.appendChild(a);
      return;
    }
    if (r.kind === 'choices') {
      bubble(r.text, 'bot');
      var box = document.createElement('div');
      box.className = 'options';
      var selected = r.selected || [];
      r.options.forEach(function (o) {
        var label = (o.number ? o.number + '. ' : '') + (selected.indexOf(o.id) >= 0 ? '✓ ' : '') + o.label;
        var cls = selected.indexOf(o.id) >= 0 ? 'selected' : (o.number ? '' : 'done');
        var b = optionButton(label, function () { send({ type: 'choice', optionId: o.id }, label); }, cls);
        b.disabled = !live;
        box.appendChild(b);
      });
      log.appendChild(box);
      return;
    }
    if (r.kind === 'request-location') {
      bubble(r.text, 'bot');
      var lbox = document.createElement('div');
      lbox.className = 'options';
      var lb = optionButton(r.buttonLabel, function () { shareLocation(r.buttonLabel); });
      lb.disabled = !live;
      lbox.appendChild(lb);
      if (r.skipOption) {
        var sb = optionButton(r.skipOption.number + '. ' + r.skipOption.label, function () { send({ type: 'choice', optionId: r.skipOption.id }, r.skipOption.label); });
        sb.disabled = !live;
        lbox.appendChild(sb);
      }
      log.appendChild(lbox);
      return;
    }
    if (r.kind === 'request-phone') {
      bubble(r.text, 'bot');
      input.setAttribute('inputmode', 'tel');
      return;
    }
  }

  function showReplies(replies) {
    disableOldButtons();
    input.setAttribute('inputmode', 'text');
    replies.forEach(function (r) { drawReply(r, true); keep({ who: 'bot', reply: r }); });
    log.scrollTop = log.scrollHeight;
    window.scrollTo(0, document.body.scrollHeight);
  }

  function setStatus(text) {
    statusBox.hidden = !text;
    statusBox.textContent = text || '';
  }

  function post(body, attempt) {
    return fetch('/api/web/events', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    }).then(function (res) {
      if (res.status >= 500) throw new Error('server ' + res.status);
      if (res.status === 429) return { problems: ['Bạn gửi nhanh quá, xin đợi một chút rồi thử lại. / Too many messages; please wait a moment and try again.'] };
      return res.json();
    }).catch(function (err) {
      // Weak connection: retry with the same event id; the server ignores a second delivery.
      if (attempt >= 4) throw err;
      setStatus('Mạng yếu, đang gửi lại… / Weak connection, retrying…');
      return new Promise(function (r) { setTimeout(r, 1000 * Math.pow(2, attempt)); }).then(function () { return post(body, attempt + 1); });
    });
  }

  function send(event, shownAs) {
    if (busy) return;
    busy = true;
    if (shownAs) { bubble(shownAs, 'me'); keep({ who: 'me', text: shownAs }); }
    event.eventId = randomId();
    post(event, 0).then(function (data) {
      setStatus('');
      if (data.replies) showReplies(data.replies);
      else if (data.problems) bubble(data.problems.join('\n'), 'bot');
    }).catch(function () {
      setStatus('Không gửi được. Kiểm tra mạng rồi thử lại. / Could not send. Check your connection and try again.');
    }).then(function () { busy = false; });
  }

  function shareLocation(label) {
    if (!navigator.geolocation) { setStatus('Máy không gửi được vị trí. / This device cannot share its location.'); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      send({ type: 'location', latitude: pos.coords.latitude, longitude: pos.coords.longitude }, label);
    }, function () {
      setStatus('Không lấy được vị trí. Hãy cho phép truy cập vị trí. / Location not available; please allow access.');
    }, { timeout: 15000, maximumAge: 60000 });
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = '';
    send({ type: 'text', text: text }, text);
  });

  document.getElementById('menu-button').addEventListener('click', function () { send({ type: 'text', text: 'menu' }, 'Menu'); });

  // Draw what was said before, then continue: a new visitor starts the conversation.
  transcript.forEach(function (entry) {
    if (entry.who === 'me') bubble(entry.text, 'me');
    else drawReply(entry.reply, false);
  });
  // Nothing is sent until the person presses something: a link (with ?start=) only shows a button.
  function offerStart(payload) {
    var box = document.createElement('div');
    box.className = 'options';
    var b = optionButton('Bắt đầu / Start', function () {
      b.disabled = true;
      send(payload ? { type: 'start', payload: payload } : { type: 'start' });
    });
    box.appendChild(b);
    log.appendChild(box);
  }

  var params = new URLSearchParams(window.location.search);
  var payload = params.get('start');
  if (transcript.length === 0 || payload) {
    offerStart(payload);
  } else {
    fetch('/api/web/prompt').then(function (r) { return r.json(); }).then(function (data) {
      if (data.known === false) { offerStart(null); return; }
      // New announcements wait: a start event (the person came back) shows them, then the current question again.
      if (data.announcements > 0) { send({ type: 'start' }); return; }
      disableOldButtons();
      (data.replies || []).forEach(function (r) { drawReply(r, true); });
      log.scrollTop = log.scrollHeight;
    }).catch(function () { setStatus('Mạng yếu. / Weak connection.'); });
  }
})();
