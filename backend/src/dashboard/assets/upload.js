// The upload form: reads the CSV's header row for the mapping, creates the upload through the
// JSON API, PUTs the file straight to storage with XHR (whose upload progress moves the bar),
// completes it, then polls the upload until it is processed.
(function () {
  'use strict';
  const form = document.getElementById('upload-form');
  const input = form.querySelector('input[type=file]');
  const submit = form.querySelector('button[type=submit]');
  const mapping = document.getElementById('column-mapping');
  const panel = document.getElementById('upload-status');
  const phase = document.getElementById('upload-phase');
  const bar = document.getElementById('upload-bar');
  const result = document.getElementById('upload-result');
  const csrfToken = document.querySelector('meta[name=csrf-token]').content;
  const previewBytes = Number(form.dataset.previewBytes);

  function show(text, share, tone) {
    panel.hidden = false;
    phase.textContent = text;
    bar.style.width = `${Math.round(Math.max(0, Math.min(1, share)) * 100)}%`;
    bar.parentElement.className = `progress ${tone || ''}`;
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { 'x-csrf-token': csrfToken, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(json.error || `${method} ${path} answered ${response.status}`);
    return json;
  }

  function putFile(put, file) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open('PUT', put.url);
      for (const [name, value] of Object.entries(put.headers)) request.setRequestHeader(name, value);
      request.upload.onprogress = (event) => {
        if (event.lengthComputable) show(`Uploading… ${Math.round((event.loaded / event.total) * 100)}%`, event.loaded / event.total);
      };
      request.onload = () => (request.status < 300 ? resolve() : reject(new Error(`storage refused the file (${request.status})`)));
      request.onerror = () => reject(new Error('the upload to storage failed'));
      request.send(file);
    });
  }

  function mappingOf() {
    const columnMapping = {};
    for (const field of mapping.querySelectorAll('[data-field]')) {
      if (field.value.trim()) columnMapping[field.dataset.field] = field.value.trim();
    }
    return columnMapping;
  }

  function optionOf(name) {
    const select = mapping.querySelector(`select[name=${name}]`);
    return select && select.value ? select.value : undefined;
  }

  function finished(upload) {
    const { read, accepted, rejected } = upload.rows;
    result.replaceChildren();
    const counts = document.createElement('p');
    counts.textContent = `${read} rows read, ${accepted} accepted, ${rejected} rejected.`;
    counts.dataset.counts = `${read}/${accepted}/${rejected}`;
    result.append(counts);
    const links = document.createElement('p');
    if (upload.errorReportAvailable) {
      const report = document.createElement('a');
      report.href = `/dashboard/uploads/${upload.id}/error-report`;
      report.textContent = 'Download the error report';
      report.className = 'button secondary';
      links.append(report, ' ');
    }
    const detail = document.createElement('a');
    detail.href = `/dashboard/uploads/${upload.id}`;
    detail.textContent = 'Open the upload';
    links.append(detail);
    result.append(links);
  }

  async function watch(id) {
    for (;;) {
      const { upload } = await api('GET', `/uploads/${id}`);
      if (upload.status === 'completed') {
        show('Processed.', 1, 'done');
        return finished(upload);
      }
      if (upload.status === 'failed') throw new Error(upload.error || 'processing failed');
      show(`Processing… ${Math.round(upload.progress * 100)}%`, upload.progress);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  input.addEventListener('change', async () => {
    const file = input.files[0];
    submit.disabled = true;
    mapping.replaceChildren();
    if (!file) return;
    const isCsv = !/\.xlsx$/i.test(file.name);
    const response = await fetch(`/dashboard/uploads/columns?name=${encodeURIComponent(file.name)}`, {
      method: 'POST',
      headers: { 'x-csrf-token': csrfToken, 'content-type': 'application/octet-stream' },
      body: isCsv ? file.slice(0, previewBytes) : new Blob([]),
    });
    mapping.innerHTML = await response.text();
    submit.disabled = !response.ok || mapping.querySelector('.notice.bad') !== null;
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return;
    submit.disabled = true;
    input.disabled = true;
    result.replaceChildren();
    try {
      show('Starting…', 0);
      const { upload, put } = await api('POST', '/uploads', {
        fileName: file.name,
        sizeBytes: file.size,
        contentType: file.type || undefined,
        columnMapping: mappingOf(),
        encoding: optionOf('encoding'),
        delimiter: optionOf('delimiter'),
        collection: form.querySelector('select[name=collection]').value,
      });
      await putFile(put, file);
      show('Checking the file…', 0);
      await api('POST', `/uploads/${upload.id}/complete`);
      await watch(upload.id);
    } catch (error) {
      show(`Failed: ${error.message}`, 1, 'failed');
    } finally {
      input.disabled = false;
    }
  });
})();
