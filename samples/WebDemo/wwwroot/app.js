// Drawing pad → PNG → POST /api/recognize → top-5 list. No external scripts: works offline.
(() => {
  'use strict';
  const pad = document.getElementById('pad');
  const context = pad.getContext('2d');
  const best = document.getElementById('best');
  const bestProbability = document.getElementById('best-probability');
  const top = document.getElementById('top');
  const status = document.getElementById('status');
  const recognizeButton = document.getElementById('recognize');
  const auto = document.getElementById('auto');
  let drawing = false;
  let inked = false;
  let last = null;

  // White ink on black, the EMNIST convention the model was trained on.
  function clearPad() {
    context.fillStyle = '#000';
    context.fillRect(0, 0, pad.width, pad.height);
    inked = false;
    best.textContent = '–';
    bestProbability.textContent = '';
    top.replaceChildren();
    top.dataset.state = 'empty';
    setStatus('');
  }

  function setStatus(text, isError) {
    status.textContent = text;
    status.classList.toggle('error', !!isError);
  }

  function point(event) {
    const box = pad.getBoundingClientRect();
    return { x: (event.clientX - box.left) * pad.width / box.width, y: (event.clientY - box.top) * pad.height / box.height };
  }

  function strokeTo(p) {
    context.strokeStyle = '#fff';
    context.fillStyle = '#fff';
    context.lineWidth = 20;
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.beginPath();
    if (last) {
      context.moveTo(last.x, last.y);
      context.lineTo(p.x, p.y);
      context.stroke();
    } else {
      context.arc(p.x, p.y, context.lineWidth / 2, 0, Math.PI * 2);
      context.fill();
    }
    last = p;
    inked = true;
  }

  pad.addEventListener('pointerdown', event => {
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    drawing = true;
    last = null;
    strokeTo(point(event));
  });
  pad.addEventListener('pointermove', event => {
    if (!drawing) return;
    event.preventDefault();
    strokeTo(point(event));
  });
  function endStroke(event) {
    if (!drawing) return;
    drawing = false;
    last = null;
    if (pad.hasPointerCapture(event.pointerId)) pad.releasePointerCapture(event.pointerId);
    if (auto.checked) recognize();
  }
  pad.addEventListener('pointerup', endStroke);
  pad.addEventListener('pointercancel', endStroke);

  function showResult(result) {
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
    if (!inked) {
      setStatus('Draw a character first.', true);
      return;
    }
    const request = ++pending;
    recognizeButton.disabled = true;
    setStatus('Recognizing…');
    try {
      const png = await new Promise(resolve => pad.toBlob(resolve, 'image/png'));
      const response = await fetch('api/recognize', { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: png });
      const reply = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
      if (request !== pending) return;
      if (!response.ok) throw new Error(reply.error || `The server answered ${response.status}.`);
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

  fetch('api/model')
    .then(response => response.json())
    .then(info => {
      document.getElementById('model-info').textContent = `Model ${info.model} · ${info.classes.length} classes: ${info.classes.join(' ')}`;
    })
    .catch(() => { document.getElementById('model-info').textContent = 'Could not read the model description.'; });

  clearPad();
})();
