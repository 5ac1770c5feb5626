/* The web chat: draws the engine's replies and sends events. Plain JavaScript (ES5, old phones), no build step.
   Nothing of the conversation is stored on the device: after a reload the server sends the current question again
   (it knows the person by its HttpOnly identity cookie). Text from the server is only ever set with textContent. */
(function () {
  'use strict';
  var data = JSON.parse(document.body.getAttribute('data-page'));
  var W = data.words;
  var lang = data.lang;
  var log = document.getElementById('log');
  var form = document.getElementById('composer');
  var input = document.getElementById('text');
  var statusBox = document.getElementById('status');
  var photoBox = document.getElementById('photo-box');
  var photoInput = document.getElementById('photo');
  var busy = false;
  // The last message that did not reach the server: sent again with the same event id, so it never counts twice.
  var unsent = null;
  // The multi-choice question on screen, updated in place when a tap changes its selection.
  var liveMulti = null;

  // Earlier versions kept the whole transcript on the device: remove it.
  try { localStorage.removeItem('cgb.transcript'); } catch (e) { /* storage off */ }

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, '');
    var s = '';
    for (var i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
    return s;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function applyWords() {
    var spans = document.querySelectorAll('[data-w]');
    for (var i = 0; i < spans.length; i++) spans[i].textContent = W[spans[i].getAttribute('data-w')];
    input.placeholder = W.placeholder;
    input.setAttribute('aria-label', W.answerLabel);
    document.title = W.title;
    document.documentElement.lang = lang;
  }

  /** Switches the page's own words to the conversation's language (before the replies are drawn). */
  function setLanguage(l) {
    if (!l || l === lang || !data.wordFiles[l]) return Promise.resolve();
    return fetch(data.wordFiles[l]).then(function (r) { return r.json(); }).then(function (w) {
      W = w; lang = l; applyWords();
    }, function () { /* keep the current words */ });
  }

  // Web addresses become links; 113-115, 1800/1900 lines and Vietnamese phone numbers become tel: links.
  var TOKEN = /(https?:\/\/[^\s<>"]+|www\.[^\s<>"]+|[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:vn|com|org|net)(?:\/[^\s<>"]*)?)|((?:\+84 ?|0)\d(?:[ .]?\d){8,9}|1[89]00(?:[ .]?\d){4,6}|11[345])/gi;
  function appendLinked(parent, text) {
    var at = 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text))) {
      var s = m[0], before = text.charAt(m.index - 1), after = text.charAt(m.index + s.length);
      var a = null;
      if (m[1]) {
        s = s.replace(/[.,;:!?)\]]+$/, '');
        if (/[\w@./-]/.test(before) || !/^(https?:|www\.)/i.test(s) && /[\w-]/.test(text.charAt(m.index + s.length))) continue;
        a = el('a', null, s);
        a.href = /^https?:/i.test(s) ? s : 'http://' + s;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
      } else {
        if (/[\w/.,+-]/.test(before) || /[\w/]/.test(after) || /^[.,]\d/.test(text.slice(m.index + s.length))) continue;
        a = el('a', 'tel', s);
        a.href = 'tel:' + s.replace(/[ .]/g, '');
      }
      parent.appendChild(document.createTextNode(text.slice(at, m.index)));
      parent.appendChild(a);
      at = m.index + s.length;
      TOKEN.lastIndex = at;
    }
    parent.appendChild(document.createTextNode(text.slice(at)));
  }

  function bubble(text, who) {
    var div = el('div', 'msg ' + who);
    div.appendChild(el('span', 'sr', (who.indexOf('me') === 0 ? W.you : W.bot) + ' '));
    if (who.indexOf('me') === 0) div.appendChild(document.createTextNode(text));
    else appendLinked(div, text);
    log.appendChild(div);
    return div;
  }

  function note(text) {
    var div = el('div', 'note', text);
    log.appendChild(div);
    return div;
  }

  function setStatus(text) {
    statusBox.hidden = !text;
    statusBox.textContent = text || '';
  }

  function disableOldButtons() {
    var old = log.querySelectorAll('.options button');
    for (var i = 0; i < old.length; i++) old[i].disabled = true;
    liveMulti = null;
  }

  function button(label, onClick, cls) {
    var b = el('button', cls, label);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  function optionLabel(o, chosen) {
    return (o.number ? o.number + '. ' : '') + (chosen ? '✓ ' : '') + o.label;
  }

  function fillOptions(box, r) {
    var selected = r.selected || [];
    box.textContent = '';
    r.options.forEach(function (o) {
      var chosen = selected.indexOf(o.id) >= 0;
      var label = optionLabel(o, chosen);
      // A tap on a multi-choice option only changes the selection: no bubble; the question updates in place.
      var shown = r.multi && o.number ? null : label;
      box.appendChild(button(label, function () { send({ type: 'choice', optionId: o.id }, shown); }, chosen ? 'selected' : (o.number ? '' : 'done')));
    });
  }

  var lastChoices = null;
  function drawChoices(r) {
    var q = bubble(r.text, 'bot');
    var box = el('div', 'options');
    fillOptions(box, r);
    log.appendChild(box);
    if (r.multi) liveMulti = { reply: r, box: box };
    lastChoices = { q: q, box: box };
    return q;
  }

  // The menu after an outcome waits behind one button, so the outcome is what the person reads.
  function foldMenu(c) {
    c.q.hidden = true; c.box.hidden = true;
    var wrap = el('div', 'options');
    wrap.appendChild(button(W.backToMenu, function () {
      log.removeChild(wrap);
      c.q.hidden = false; c.box.hidden = false;
      log.scrollTop = Math.max(0, c.q.offsetTop - 8);
    }, 'compact'));
    log.insertBefore(wrap, c.q);
  }

  /** Draws one reply; returns its first element. */
  function drawReply(r) {
    if (r.kind === 'text') return bubble(r.text, 'bot');
    if (r.kind === 'choices') return drawChoices(r);
    if (r.kind === 'picture') {
      // A guidance picture: the card, its title under it, and all it says as alt text.
      var pd = bubble(r.caption || '', 'bot');
      var pic = el('img');
      pic.src = r.url; pic.alt = r.alt || r.caption || ''; pic.loading = 'lazy';
      pd.insertBefore(pic, pd.firstChild.nextSibling);
      return pd;
    }
    if (r.kind === 'image' || r.kind === 'document') {
      var d = bubble(r.caption || '', 'bot');
      var src = r.kind === 'image' ? r.url : r.imageUrl;
      if (src) {
        var img = el('img');
        img.src = src; img.alt = r.caption || r.fileName || '';
        d.insertBefore(img, d.firstChild.nextSibling);
      }
      if (r.kind === 'document') {
        var a = el('a', 'download', '⬇ ' + r.fileName);
        a.href = r.url; a.download = r.fileName;
        d.appendChild(el('br'));
        d.appendChild(a);
      }
      return d;
    }
    if (r.kind === 'voice') return bubble((r.caption || '') + (/^https:/.test(r.ref) ? '\n' + r.ref : ''), 'bot');
    if (r.kind === 'request-location') {
      var first = bubble(r.text, 'bot');
      var lbox = el('div', 'options');
      lbox.appendChild(button(r.buttonLabel, function () { shareLocation(r.buttonLabel); }));
      if (r.skipOption) {
        var skip = r.skipOption;
        lbox.appendChild(button(skip.number + '. ' + skip.label, function () { send({ type: 'choice', optionId: skip.id }, skip.label); }));
      }
      log.appendChild(lbox);
      return first;
    }
    if (r.kind === 'request-phone') {
      input.setAttribute('inputmode', 'tel');
      return bubble(r.text, 'bot');
    }
    return null;
  }

  function sameQuestion(a, b) {
    if (!a || !b || b.kind !== 'choices' || !b.multi || a.text !== b.text || a.options.length !== b.options.length) return false;
    for (var i = 0; i < a.options.length; i++) if (a.options[i].id !== b.options[i].id) return false;
    return true;
  }

  function showReplies(res) {
    return setLanguage(res.locale).then(function () { drawReplies(res); });
  }

  function drawReplies(res) {
    var replies = res.replies || [];
    photoBox.hidden = res.expects !== 'photo';
    // A tap on a multi-choice option answers with the same question: update it where it is.
    if (replies.length === 1 && liveMulti && sameQuestion(liveMulti.reply, replies[0])) {
      liveMulti.reply = replies[0];
      fillOptions(liveMulti.box, replies[0]);
      return;
    }
    disableOldButtons();
    input.setAttribute('inputmode', 'text');
    var firstNew = null;
    lastChoices = null;
    replies.forEach(function (r) {
      var e = drawReply(r);
      if (!firstNew) firstNew = e;
    });
    var last = replies[replies.length - 1];
    // An outcome (a long answer) followed by the main menu: the menu folds behind "Về menu".
    if (res.atMenu && replies.length > 1 && last.kind === 'choices' && last.options.length > 3 && lastChoices.q !== firstNew &&
        lastChoices.q.offsetTop - firstNew.offsetTop > log.clientHeight * 0.3) foldMenu(lastChoices);
    // The start of the answer, not the end: a long outcome stays readable from its first line.
    if (firstNew) log.scrollTop = Math.max(0, firstNew.offsetTop - 8);
  }

  function post(url, body, headers, attempt) {
    return fetch(url, { method: 'POST', headers: headers, body: body, credentials: 'same-origin' }).then(function (res) {
      if (res.status >= 500) throw new Error('server ' + res.status);
      if (res.status === 429) return { failed: W.tooMany };
      if (res.status === 413) return { failed: W.photoTooBig };
      if (res.status === 415) return { failed: W.photoBad };
      return res.json();
    }).catch(function (err) {
      // No answer (weak connection): the same event id again; a second delivery has no second effect.
      if (attempt >= 2) throw err;
      setStatus(W.retrying);
      return new Promise(function (r) { setTimeout(r, 1500 * (attempt + 1)); }).then(function () { return post(url, body, headers, attempt + 1); });
    });
  }

  /**
   * Sends one event. `shownAs` is what the person's bubble says (none for a start or a multi-choice tap); `fromInput`
   * clears the typed text only once the server has it. A send that fails leaves no bubble and keeps the text.
   */
  function send(event, shownAs, fromInput, upload) {
    if (busy) return;
    busy = true;
    var key = upload ? 'photo:' + upload.size : JSON.stringify(event);
    if (!unsent || unsent.key !== key) unsent = { key: key, eventId: randomId() };
    event.eventId = unsent.eventId;
    var mine = shownAs ? bubble(shownAs, 'me pending') : null;
    if (mine) log.scrollTop = Math.max(0, mine.offsetTop + mine.offsetHeight - log.clientHeight + 8);
    if (fromInput) input.readOnly = true;
    setStatus(W.sending);
    var request = upload
      ? post('/api/web/photo?eventId=' + event.eventId, upload, { 'Content-Type': upload.type }, 0)
      : post('/api/web/events', JSON.stringify(event), { 'Content-Type': 'application/json' }, 0);
    request.then(function (res) {
      if (res.failed || !res.replies) throw { shown: res.failed || (res.problems || []).join('\n') };
      return res;
    }).then(function (res) {
      // The server has it: from here on nothing unsends it.
      unsent = null;
      setStatus('');
      if (mine) mine.className = 'msg me';
      if (fromInput && input.value === shownAs) input.value = '';
      if (res.erased) { forgetDevice(res.replies); return; }
      if (res.newChat) note(W.noPush);
      if (event.type === 'start' && event.payload) dropStartFromAddress();
      return showReplies(res);
    }, function (err) {
      if (mine) mine.parentNode.removeChild(mine);
      setStatus(err && err.shown || W.failed);
    }).then(idle, idle);
  }

  function idle() {
    busy = false;
    input.readOnly = false;
  }

  function dropStartFromAddress() {
    var params = new URLSearchParams(window.location.search);
    params.delete('start');
    var q = params.toString();
    window.history.replaceState(null, '', window.location.pathname + (q ? '?' + q : '') + window.location.hash);
  }

  // After "delete my data" or "clear this chat": nothing of the conversation stays on screen or on the device; the
  // server has ended the identity, so the next Start is a new conversation.
  function forgetDevice(replies) {
    try { localStorage.clear(); window.sessionStorage.clear(); } catch (e) { /* storage off */ }
    dropStartFromAddress();
    log.textContent = '';
    unsent = null; liveMulti = null;
    photoBox.hidden = true;
    (replies || []).forEach(function (r) { if (r.kind === 'text') bubble(r.text, 'bot'); });
    note(W.cleared);
    offerStart(null);
  }

  function shareLocation(label) {
    if (!navigator.geolocation) { setStatus(W.noLocation); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      send({ type: 'location', latitude: pos.coords.latitude, longitude: pos.coords.longitude }, label);
    }, function () { setStatus(W.locationDenied); }, { timeout: 15000, maximumAge: 60000 });
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text || busy) return;
    // A typed number at a multi-choice question adds to what was tapped.
    var r = liveMulti && liveMulti.reply;
    if (r && r.selected && r.selected.length && /^\d+(\s*[,; ]\s*\d+)*$/.test(text)) {
      var numbers = text.split(/[^\d]+/).map(Number);
      r.options.forEach(function (o) { if (o.number && r.selected.indexOf(o.id) >= 0 && numbers.indexOf(o.number) < 0) numbers.push(o.number); });
      numbers.sort(function (a, b) { return a - b; });
      input.value = numbers.join(', ');
      text = input.value;
    }
    send({ type: 'text', text: text }, text, true);
  });

  document.getElementById('menu-button').addEventListener('click', function () { send({ type: 'text', text: 'menu' }, 'Menu'); });

  document.getElementById('clear-button').addEventListener('click', function () {
    if (!window.confirm(W.clearConfirm)) return;
    fetch('/api/web/forget', { method: 'POST', credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error('forget ' + r.status);
      forgetDevice([]);
    }).catch(function () { setStatus(W.failed); });
  });

  // A photo is made smaller on the phone (a 2G line) when the browser can; it is sent as the answer to the step.
  photoInput.addEventListener('change', function () {
    var file = photoInput.files && photoInput.files[0];
    photoInput.value = '';
    if (!file) return;
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) && !/^image\//.test(file.type)) { setStatus(W.photoBad); return; }
    shrink(file, function (blob) {
      if (blob.size > 3 * 1024 * 1024) { setStatus(W.photoTooBig); return; }
      send({ type: 'photo' }, W.photoSent, false, blob);
    });
  });

  function shrink(file, done) {
    var reader = new window.FileReader();
    reader.onerror = function () { done(file); };
    reader.onload = function () {
      var img = new window.Image();
      img.onerror = function () { done(file); };
      img.onload = function () {
        var scale = Math.min(1, 1600 / Math.max(img.width, img.height));
        var canvas = document.createElement('canvas');
        canvas.width = Math.round(img.width * scale); canvas.height = Math.round(img.height * scale);
        canvas.getContext('2d').drawImage(img, 0, 0, canvas.width, canvas.height);
        if (!canvas.toBlob) { done(file); return; }
        canvas.toBlob(function (b) { done(b && b.size < file.size ? b : file); }, 'image/jpeg', 0.8);
      };
      img.src = reader.result;
    };
    reader.readAsDataURL(file);
  }

  // Nothing is sent until the person presses something: a link (with ?start=) only shows a button.
  function offerStart(payload) {
    var box = el('div', 'options');
    var b = button(W.start, function () {
      send(payload ? { type: 'start', payload: payload } : { type: 'start' });
    }, 'start');
    box.appendChild(b);
    log.appendChild(box);
  }

  applyWords();
  var payload = new URLSearchParams(window.location.search).get('start');
  if (payload) {
    offerStart(payload);
  } else {
    fetch('/api/web/prompt', { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (res) {
      if (res.known === false) { offerStart(null); return; }
      // New announcements wait: a start event (the person came back) shows them, then the current question again.
      if (res.announcements > 0) { send({ type: 'start' }); return; }
      // At rest between flows there is no question to show: Start (or Menu) continues.
      if (!res.replies || !res.replies.length) { offerStart(null); return; }
      showReplies(res);
    }).catch(function () { setStatus(W.weak); });
  }
})();
