// Drawing pad → PNG → POST /api/recognize → top-5 list; wide pad → POST /api/read → text and boxes. No external scripts: works offline.
(() => {
  'use strict';
  const pad = document.getElementById('pad');
  const best = document.getElementById('best');
  const bestProbability = document.getElementById('best-probability');
  const top = document.getElementById('top');
  const status = document.getElementById('status');
  const recognizeButton = document.getElementById('recognize');
  const auto = document.getElementById('auto');

  // A drawing pad on a canvas: mouse, pen and touch (pointer events); onStrokeEnd runs when the pen lifts.
  function makePad(canvas, ink, paper, lineWidth, onStrokeEnd) {
    const context = canvas.getContext('2d');
    const pad = { inked: false };
    let drawing = false;
    let last = null;

    pad.clear = () => {
      context.fillStyle = paper;
      context.fillRect(0, 0, canvas.width, canvas.height);
      pad.inked = false;
    };

    function point(event) {
      const box = canvas.getBoundingClientRect();
      return { x: (event.clientX - box.left) * canvas.width / box.width, y: (event.clientY - box.top) * canvas.height / box.height };
    }

    function strokeTo(p) {
      context.strokeStyle = ink;
      context.fillStyle = ink;
      context.lineWidth = lineWidth;
      context.lineCap = 'round';
      context.lineJoin = 'round';
      context.beginPath();
      if (last) {
        context.moveTo(last.x, last.y);
        context.lineTo(p.x, p.y);
        context.stroke();
      } else {
        context.arc(p.x, p.y, lineWidth / 2, 0, Math.PI * 2);
        context.fill();
      }
      last = p;
      pad.inked = true;
    }

    canvas.addEventListener('pointerdown', event => {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = null;
      strokeTo(point(event));
    });
    canvas.addEventListener('pointermove', event => {
      if (!drawing) return;
      event.preventDefault();
      strokeTo(point(event));
    });
    function endStroke(event) {
      if (!drawing) return;
      drawing = false;
      last = null;
      if (canvas.hasPointerCapture(event.pointerId)) canvas.releasePointerCapture(event.pointerId);
      if (onStrokeEnd) onStrokeEnd();
    }
    canvas.addEventListener('pointerup', endStroke);
    canvas.addEventListener('pointercancel', endStroke);
    return pad;
  }

  // White ink on black, the EMNIST convention the model was trained on.
  const characterPad = makePad(pad, '#fff', '#000', 20, () => { if (auto.checked) recognize(); });

  function clearPad() {
    characterPad.clear();
    best.textContent = '–';
    bestProbability.textContent = '';
    top.replaceChildren();
    top.dataset.state = 'empty';
    setStatus('');
  }

  function setStatus(text, isError, element) {
    const target = element || status;
    target.textContent = text;
    target.classList.toggle('error', !!isError);
  }

  // Posts the canvas as a PNG and returns the parsed reply; throws with the server's error message.
  async function postCanvas(canvas, url) {
    const png = await new Promise(resolve => canvas.toBlob(resolve, 'image/png'));
    const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: png });
    const reply = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
    if (!response.ok) throw new Error(reply.error || `The server answered ${response.status}.`);
    return reply;
  }

  function showResult(result) {
    if (result.content !== 'writing') {
      // Blank or noise: the server classifies nothing (InkCheck), so there is no best class to show.
      best.textContent = '–';
      bestProbability.replaceChildren();
      top.replaceChildren();
      top.dataset.state = result.content;
      setStatus(result.content === 'blank' ? 'The image is blank: nothing to recognize.' : 'The image holds scattered dots, not strokes: nothing to recognize.', true);
      return;
    }
    best.textContent = result.label;
    const first = result.top.find(entry => entry.label === result.label);
    bestProbability.replaceChildren(document.createTextNode(first ? `${(first.probability * 100).toFixed(1)}%` : ''));
    const note = document.createElement('small');
    note.textContent = 'probability of the best class';
    if (first) bestProbability.append(note);
    top.replaceChildren(...result.top.map(entry => {
      const item = document.createElement('li');
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = entry.label;
      const bar = document.createElement('span');
      bar.className = 'bar';
      const fill = document.createElement('span');
      fill.style.width = `${(entry.probability * 100).toFixed(1)}%`;
      bar.append(fill);
      const probability = document.createElement('span');
      probability.className = 'probability';
      probability.textContent = `${(entry.probability * 100).toFixed(1)}%`;
      probability.dataset.value = String(entry.probability);
      item.append(label, bar, probability);
      return item;
    }));
    top.dataset.state = 'done';
    setStatus(`Answered in ${result.milliseconds.toFixed(1)} ms.`);
  }

  let pending = 0;
  async function recognize() {
    if (!characterPad.inked) {
      setStatus('Draw a character first.', true);
      return;
    }
    const request = ++pending;
    recognizeButton.disabled = true;
    setStatus('Recognizing…');
    try {
      const reply = await postCanvas(pad, 'api/recognize');
      if (request !== pending) return;
      showResult(reply);
    } catch (error) {
      if (request !== pending) return;
      top.dataset.state = 'error';
      setStatus(error.message, true);
    } finally {
      if (request === pending) recognizeButton.disabled = false;
    }
  }

  document.getElementById('clear').addEventListener('click', clearPad);
  recognizeButton.addEventListener('click', recognize);

  // Field mode: a wide pad, dark ink on white paper like a form; the reply's boxes and labels are drawn on an overlay.
  const fieldCanvas = document.getElementById('field-pad');
  const overlay = document.getElementById('field-overlay');
  const overlayContext = overlay.getContext('2d');
  const fieldKind = document.getElementById('field-kind');
  const fieldText = document.getElementById('field-text');
  const fieldConfidence = document.getElementById('field-confidence');
  const fieldCharacters = document.getElementById('field-characters');
  const fieldStatus = document.getElementById('field-status');
  const readButton = document.getElementById('field-read');
  const fieldPad = makePad(fieldCanvas, '#111', '#fff', 9, clearOverlay);

  function clearOverlay() {
    overlayContext.clearRect(0, 0, overlay.width, overlay.height);
    overlay.dataset.boxes = '0';
  }

  function clearField() {
    fieldPad.clear();
    clearOverlay();
    fieldText.textContent = '–';
    fieldConfidence.textContent = '';
    fieldCharacters.replaceChildren();
    fieldCharacters.dataset.state = 'empty';
    setStatus('', false, fieldStatus);
  }

  function drawBoxes(reply) {
    clearOverlay();
    const sx = overlay.width / reply.width;
    const sy = overlay.height / reply.height;
    overlayContext.lineWidth = 2;
    overlayContext.font = 'bold 20px system-ui, sans-serif';
    overlayContext.textBaseline = 'bottom';
    for (const c of reply.characters) {
      const x = c.x * sx, y = c.y * sy, w = c.width * sx, h = c.height * sy;
      overlayContext.strokeStyle = '#2f6fed';
      overlayContext.strokeRect(x, y, w, h);
      const label = `${c.label} ${(c.confidence * 100).toFixed(0)}%`;
      const labelY = Math.max(22, y - 2);
      overlayContext.fillStyle = 'rgba(255, 255, 255, .85)';
      overlayContext.fillRect(x, labelY - 21, overlayContext.measureText(label).width + 6, 21);
      overlayContext.fillStyle = '#2f6fed';
      overlayContext.fillText(label, x + 3, labelY);
    }
    overlay.dataset.boxes = String(reply.characters.length);
  }

  function showField(reply) {
    fieldText.textContent = reply.content === 'noise' ? '(noise, not writing)' : reply.text === '' ? '(blank)' : reply.text;
    fieldConfidence.replaceChildren(document.createTextNode(`${(reply.confidence * 100).toFixed(1)}%`));
    const note = document.createElement('small');
    note.textContent = 'probability that every character is right';
    fieldConfidence.append(note);
    fieldCharacters.replaceChildren(...reply.characters.map(c => {
      const item = document.createElement('li');
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = c.label;
      const probability = document.createElement('span');
      probability.className = 'probability';
      probability.textContent = `${(c.confidence * 100).toFixed(1)}%`;
      item.append(label, probability);
      Object.assign(item.dataset, { x: c.x, y: c.y, width: c.width, height: c.height, confidence: c.confidence });
      return item;
    }));
    drawBoxes(reply);
    fieldCharacters.dataset.state = 'done';
    setStatus(`Read as ${reply.kind} in ${reply.milliseconds.toFixed(1)} ms.`, false, fieldStatus);
  }

  let fieldPending = 0;
  async function readField() {
    if (!fieldPad.inked) {
      setStatus('Write a word or a number first.', true, fieldStatus);
      return;
    }
    const request = ++fieldPending;
    readButton.disabled = true;
    setStatus('Reading…', false, fieldStatus);
    try {
      const reply = await postCanvas(fieldCanvas, `api/read?kind=${encodeURIComponent(fieldKind.value)}`);
      if (request !== fieldPending) return;
      showField(reply);
    } catch (error) {
      if (request !== fieldPending) return;
      fieldCharacters.dataset.state = 'error';
      setStatus(error.message, true, fieldStatus);
    } finally {
      if (request === fieldPending) readButton.disabled = false;
    }
  }

  document.getElementById('field-clear').addEventListener('click', clearField);
  readButton.addEventListener('click', readField);

  for (const tab of document.querySelectorAll('.modes button')) {
    tab.addEventListener('click', () => {
      for (const other of document.querySelectorAll('.modes button')) other.setAttribute('aria-selected', String(other === tab));
      document.getElementById('character-mode').hidden = tab.dataset.mode !== 'character';
      document.getElementById('field-mode').hidden = tab.dataset.mode !== 'field';
    });
  }

  fetch('api/model')
    .then(response => response.json())
    .then(info => {
      document.getElementById('model-info').textContent = `Model ${info.model} · ${info.classes.length} classes: ${info.classes.join(' ')}`;
    })
    .catch(() => { document.getElementById('model-info').textContent = 'Could not read the model description.'; });

  clearPad();
  clearField();
})();
