// The work of a customer's task: read and sign a PDF, fill in a form,
// send a photo or document, agree or disagree. Each completes through
// its own API route, which keeps what the customer produced; a custom
// task is only marked done. PDF.js and signature_pad load only when a
// document is opened.
import { html, signal, useState, useEffect, useRef, Icon, announce, cx } from "./ui.js";
import { ApiError, request } from "./api.js";
import { checkForm, answersOf } from "./forms.js";
import { t, plainError } from "./i18n.js";

// assetURL is where an asset of a session downloads.
export const assetURL = (sid, asset) => `/api/sessions/${encodeURIComponent(sid)}/assets/${encodeURIComponent(asset)}`;

// fetchAsset reads an asset with the customer's link.
async function fetchAsset(link, sid, asset) {
  let r;
  try {
    r = await fetch(assetURL(sid, asset), { headers: { Authorization: "Link " + link }, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, null);
  }
  if (!r.ok) {
    let body = null;
    try { body = await r.json(); } catch (e) { /* not JSON */ }
    throw new ApiError(r.status, body);
  }
  return r;
}

// DownloadButton saves an asset as a file.
export function DownloadButton({ link, sid, asset, name, label, testid }) {
  const [state, setState] = useState("");
  const save = async () => {
    setState("busy");
    try {
      const blob = await (await fetchAsset(link, sid, asset)).blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30000);
      setState("done");
    } catch (e) {
      setState(plainError(e));
    }
  };
  return html`<div class="download">
    <button type="button" class="btn" data-testid=${testid || "download"} disabled=${state === "busy"} onClick=${save}>
      <${Icon} name="download" /> ${label}</button>
    ${state === "done" && html`<span class="muted small" role="status" data-testid="downloaded">${t("task.downloaded")}</span>`}
    ${state && state !== "busy" && state !== "done" && html`<p class="field-error" role="alert">${state}</p>`}
  </div>`;
}

// signing says a document is open to sign: the customer's page folds
// its conversation to a bar meanwhile, so the page and the pad have the
// screen.
export const signing = signal(0);

// ZOOMS are the PDF's sizes, as a multiple of the screen's width.
const ZOOMS = [1, 1.5, 2, 2.5];

// Pdf shows a PDF page by page, sized to the page's width times the zoom
// the customer picked (a phone's pinch zooms the page as well).
function Pdf({ link, sid, asset, title, last }) {
  const [doc, setDoc] = useState(null);
  const [page, setPage] = useState(1);
  const [zoom, setZoom] = useState(0);
  const [error, setError] = useState("");
  const [rendered, setRendered] = useState(0);
  const canvas = useRef(null);
  useEffect(() => {
    let stop = false;
    (async () => {
      try {
        const pdfjs = await import("../vendor/pdf.js");
        pdfjs.GlobalWorkerOptions.workerSrc = "/vendor/pdf.worker.js";
        const data = new Uint8Array(await (await fetchAsset(link, sid, asset)).arrayBuffer());
        const d = await pdfjs.getDocument({ data, verbosity: 0, enableXfa: false }).promise;
        if (!stop) {
          if (last) { setPage(d.numPages); }
          setDoc(d);
        }
      } catch (e) {
        if (!stop) { setError(e instanceof ApiError ? plainError(e) : t("pdf.failed")); }
      }
    })();
    return () => { stop = true; };
  }, [asset]);
  useEffect(() => {
    if (!doc || !canvas.current) { return; }
    let task = null;
    (async () => {
      const p = await doc.getPage(page);
      const el = canvas.current;
      const width = (el.parentElement.clientWidth || 340) * ZOOMS[zoom];
      const base = p.getViewport({ scale: 1 });
      // Past 2 device pixels a CSS pixel the text reads no better, and a
      // zoomed page would cost a phone tens of megabytes.
      const ratio = Math.min(window.devicePixelRatio || 1, 2);
      const vp = p.getViewport({ scale: (width / base.width) * ratio });
      el.width = Math.floor(vp.width);
      el.height = Math.floor(vp.height);
      el.style.width = width + "px";
      el.style.height = Math.floor(vp.height / ratio) + "px";
      task = p.render({ canvas: el, canvasContext: el.getContext("2d"), viewport: vp });
      await task.promise;
      setRendered(page);
    })().catch(() => {});
    return () => { if (task) { task.cancel(); } };
  }, [doc, page, zoom]);
  if (error) { return html`<p class="field-error" role="alert">${error}</p>`; }
  const n = doc ? doc.numPages : 0;
  return html`<div class="pdf" data-testid="pdf" data-pages=${n} data-rendered=${rendered}>
    <div class="pdf-page" data-testid="pdf-page-box" data-scrolls="x"><canvas ref=${canvas} role="img" aria-label=${t("pdf.page_of_named", { title, page, total: n || "…" })}></canvas></div>
    <div class="pdf-nav">
      <span class="pdf-zoom">
        <button type="button" class="btn" data-testid="pdf-zoom-out" disabled=${zoom === 0} onClick=${() => setZoom(zoom - 1)}
          aria-label=${t("pdf.smaller")}><${Icon} name="minus" /></button>
        <span data-testid="pdf-zoom" aria-live="polite">${Math.round(ZOOMS[zoom] * 100)}%</span>
        <button type="button" class="btn" data-testid="pdf-zoom-in" disabled=${zoom === ZOOMS.length - 1} onClick=${() => setZoom(zoom + 1)}
          aria-label=${t("pdf.larger")}><${Icon} name="plus" /></button>
      </span>
      <span class="pdf-pages">
      <button type="button" class="btn" data-testid="pdf-prev" disabled=${page <= 1} onClick=${() => setPage(page - 1)}
        aria-label=${t("pdf.previous")}><${Icon} name="chevronLeft" /></button>
      <span aria-live="polite" data-testid="pdf-page">${n ? t("pdf.page_of", { page, total: n }) : t("pdf.opening")}</span>
      <button type="button" class="btn" data-testid="pdf-next" disabled=${!n || page >= n} onClick=${() => setPage(page + 1)}
        aria-label=${t("pdf.next")}><${Icon} name="chevronRight" /></button>
      </span>
    </div>
  </div>`;
}

// SignWork reads the document, then signs it by drawing or typing.
function SignWork({ t: task, link, sid, name0, onDone, onCancel }) {
  useEffect(() => {
    signing.value += 1;
    return () => { signing.value -= 1; };
  }, []);
  const [mode, setMode] = useState("draw");
  const [name, setName] = useState(name0 || "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const canvas = useRef(null);
  const pad = useRef(null);
  useEffect(() => {
    if (mode !== "draw") { return undefined; }
    let p = null;
    import("../vendor/signature_pad.js").then(({ default: SignaturePad }) => {
      const el = canvas.current;
      if (!el) { return; }
      const ratio = Math.max(window.devicePixelRatio || 1, 1);
      el.width = el.offsetWidth * ratio;
      el.height = el.offsetHeight * ratio;
      el.getContext("2d").scale(ratio, ratio);
      p = new SignaturePad(el, { penColor: "#1a1a40" });
      pad.current = p;
    });
    return () => { if (p) { p.off(); } pad.current = null; };
  }, [mode]);
  const submit = async (e) => {
    e.preventDefault();
    setError("");
    const body = { name: name.trim() };
    if (!body.name) { setError(t("sign.name_needed")); return; }
    if (mode === "draw") {
      if (!pad.current || pad.current.isEmpty()) { setError(t("sign.draw_needed")); return; }
      body.image = pad.current.toDataURL("image/png");
    }
    setBusy(true);
    try {
      const r = await request("POST", `/api/customer/tasks/${task.id}/sign`, body, { Authorization: "Link " + link });
      onDone(r.task);
    } catch (err) {
      setError(plainError(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="sign-work" onSubmit=${submit} novalidate>
    <${Pdf} link=${link} sid=${sid} asset=${task.document_id} title=${task.title} />
    <fieldset class="sign-mode">
      <legend>${t("sign.how")}</legend>
      <label><input type="radio" name=${"mode-" + task.id} checked=${mode === "draw"} data-testid="sign-draw"
        onChange=${() => setMode("draw")} /> ${t("sign.draw")}</label>
      <label><input type="radio" name=${"mode-" + task.id} checked=${mode === "type"} data-testid="sign-type"
        onChange=${() => setMode("type")} /> ${t("sign.type")}</label>
    </fieldset>
    ${mode === "draw" && html`<div class="sig-box">
      <canvas ref=${canvas} class="sig-pad" data-testid="sig-pad" role="img" aria-label=${t("sign.pad")}></canvas>
      <button type="button" class="btn btn-small" onClick=${() => pad.current && pad.current.clear()}>${t("sign.clear")}</button>
    </div>`}
    <label for=${"sign-name-" + task.id}>${t("sign.full_name")}</label>
    <input id=${"sign-name-" + task.id} data-testid="sign-name" value=${name} autocomplete="name" maxlength="200"
      onInput=${(e) => setName(e.currentTarget.value)} />
    <p class="muted small">${t("sign.explain")}</p>
    ${error && html`<p class="field-error" role="alert">${error}</p>`}
    <div class="row-actions">
      <button type="submit" class="btn btn-primary" data-testid="task-sign" disabled=${busy}>${t(busy ? "sign.signing" : "sign.sign")}</button>
      <button type="button" class="btn" onClick=${onCancel}>${t("sign.not_now")}</button>
    </div>
  </form>`;
}

// FormWork renders a form's fields and checks them before sending.
function FormWork({ t: task, link, onDone }) {
  const fields = task.fields || [];
  const [values, setValues] = useState({});
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const set = (name, v) => setValues({ ...values, [name]: v });
  const submit = async (e) => {
    e.preventDefault();
    setError("");
    const errs = checkForm(fields, answersOf(fields, values));
    setErrors(errs);
    if (Object.keys(errs).length) {
      const first = fields.find((d) => errs[d.name]);
      const el = document.getElementById(`f-${task.id}-${first.name}`);
      if (el) { el.focus(); }
      return;
    }
    setBusy(true);
    try {
      const r = await request("POST", `/api/customer/tasks/${task.id}/form`, { answers: answersOf(fields, values) }, { Authorization: "Link " + link });
      onDone(r.task);
    } catch (err) {
      const server = {};
      for (const k of Object.keys(err.fields || {})) { server[k.replace(/^answers\./, "")] = { key: "form.check" }; }
      setErrors(server);
      setError(plainError(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="form-work" onSubmit=${submit} novalidate data-testid="task-form-work">
    ${fields.map((d) => {
      const id = `f-${task.id}-${d.name}`;
      const err = errors[d.name];
      const described = [d.help && id + "-help", err && id + "-err"].filter(Boolean).join(" ") || undefined;
      const common = { id, "aria-invalid": err ? "true" : undefined, "aria-describedby": described, "data-field": d.name,
        "aria-required": d.required ? "true" : undefined };
      let input;
      if (d.type === "checkbox") {
        input = html`<label class="check"><input type="checkbox" ...${common} checked=${values[d.name] === true}
          onChange=${(e) => set(d.name, e.currentTarget.checked)} /> ${d.label}${d.required ? html` <${Required} />` : " " + t("form.optional")}</label>`;
      } else if (d.type === "select") {
        input = html`<select ...${common} value=${values[d.name] || ""} onChange=${(e) => set(d.name, e.currentTarget.value)}>
          <option value="">${t("form.choose")}</option>
          ${(d.options || []).map((o) => html`<option key=${o} value=${o}>${o}</option>`)}
        </select>`;
      } else {
        const type = { email: "email", phone: "tel", date: "date", number: "number" }[d.type] || "text";
        input = html`<input type=${type} ...${common} value=${values[d.name] || ""} step=${d.type === "number" ? "any" : undefined}
          min=${d.min || undefined} max=${d.max || undefined}
          autocomplete=${d.type === "email" ? "email" : d.type === "phone" ? "tel" : "off"}
          onInput=${(e) => set(d.name, e.currentTarget.value)} />`;
      }
      return html`<div class=${cx("field", err && "field-bad")} key=${d.name}>
        ${d.type !== "checkbox" && html`<label for=${id}>${d.label}${d.required ? html` <${Required} />` : html` <span class="muted">${t("form.optional")}</span>`}</label>`}
        ${input}
        ${d.help && html`<p class="hint" id=${id + "-help"}>${d.help}</p>`}
        ${err && html`<p class="field-error" id=${id + "-err"} data-testid="field-error">${t(err.key, { label: d.label, ...err.vars })}</p>`}
      </div>`;
    })}
    ${error && html`<p class="field-error" role="alert">${error}</p>`}
    <button type="submit" class="btn btn-primary btn-block" data-testid="form-submit" disabled=${busy}>${t(busy ? "form.sending" : "action.send")}</button>
  </form>`;
}

// Required marks a field the form cannot be sent without, before any
// attempt: a star for the eye, the word for a screen reader.
function Required() {
  return html`<span class="req" data-testid="required-mark"><span aria-hidden="true">*</span><span class="sr-only">${t("form.required_mark")}</span></span>`;
}

// sendFile posts a file with progress (fetch cannot report it).
function sendFile(url, file, link, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Authorization", "Link " + link);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) { onProgress(e.loaded / e.total); } };
    xhr.onerror = () => reject(new ApiError(0, null));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) { resolve(body); } else { reject(new ApiError(xhr.status, body)); }
    };
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

const phone = () => window.matchMedia && window.matchMedia("(pointer: coarse)").matches;

// UploadWork sends one photo or document: the camera or the files on a
// phone, a picker or drag and drop on a desktop.
function UploadWork({ t: task, link, max, onDone }) {
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState("");
  const [over, setOver] = useState(false);
  const camera = useRef(null);
  const picker = useRef(null);
  // picked is the file chosen and not yet sent: the customer sees it
  // first, and sends it or takes another.
  const [picked, setPicked] = useState(null);
  const [preview, setPreview] = useState("");
  useEffect(() => () => { if (preview) { URL.revokeObjectURL(preview); } }, [preview]);
  const pick = (file) => {
    if (!file) { return; }
    if (max && file.size > max) {
      setError(t("upload.too_large", { mb: Math.floor(max / 1048576) }));
      return;
    }
    setError("");
    setPicked(file);
    setPreview(file.type.startsWith("image/") ? URL.createObjectURL(file) : "");
  };
  const retake = () => {
    setPicked(null);
    setPreview("");
    if (camera.current) { camera.current.value = ""; }
    if (picker.current) { picker.current.value = ""; }
  };
  const send = async (file) => {
    if (!file) { return; }
    setError("");
    setProgress(0);
    try {
      const r = await sendFile(`/api/customer/tasks/${task.id}/upload`, file, link, setProgress);
      onDone(r.task);
    } catch (err) {
      setError(plainError(err));
    } finally {
      setProgress(null);
    }
  };
  const busy = progress !== null;
  return html`<div class=${cx("upload-work", over && "drop-over")} data-testid="upload-work"
      onDragOver=${(e) => { e.preventDefault(); setOver(true); }} onDragLeave=${() => setOver(false)}
      onDrop=${(e) => { e.preventDefault(); setOver(false); pick(e.dataTransfer.files[0]); }}>
    ${task.instructions && html`<p class="upload-help">${task.instructions}</p>`}
    <p class="muted small">${t(phone() ? "upload.how_phone" : "upload.how_desktop")} ${t("upload.types")}</p>
    <input type="file" class="sr-only" ref=${camera} accept="image/*" capture="environment" data-testid="upload-camera"
      tabindex="-1" aria-hidden="true" onChange=${(e) => pick(e.currentTarget.files[0])} />
    <input type="file" class="sr-only" ref=${picker} accept="image/jpeg,image/png,application/pdf" data-testid="upload-file"
      tabindex="-1" aria-hidden="true" onChange=${(e) => pick(e.currentTarget.files[0])} />
    ${picked && html`<div class="upload-picked" data-testid="upload-picked">
      ${preview
        ? html`<img class="upload-preview" src=${preview} alt=${t("upload.preview")} data-testid="upload-preview" />`
        : html`<p class="upload-name"><${Icon} name="file" /> ${picked.name}</p>`}
      <div class="row-actions">
        <button type="button" class="btn btn-primary" data-testid="upload-send" disabled=${busy} onClick=${() => send(picked)}>${t("action.send")}</button>
        <button type="button" class="btn" data-testid="upload-retake" disabled=${busy} onClick=${retake}>${t(preview ? "upload.retake" : "upload.another")}</button>
      </div>
    </div>`}
    ${!picked && html`<div class="row-actions">
      ${phone() && html`<button type="button" class="btn btn-primary" disabled=${busy} onClick=${() => camera.current.click()}>
        <${Icon} name="camera" /> ${t("upload.photo")}</button>`}
      <button type="button" class=${cx("btn", !phone() && "btn-primary")} disabled=${busy} onClick=${() => picker.current.click()}>
        ${t("upload.choose")}</button>
    </div>`}
    ${busy && html`<div class="upload-progress"><progress max="100" value=${Math.round(progress * 100)} aria-label=${t("upload.sending")}></progress>
      <span>${Math.round(progress * 100)}%</span></div>`}
    ${error && html`<p class="field-error" role="alert" data-testid="upload-error">${error}</p>`}
  </div>`;
}

// ConsentWork asks for Agree or Disagree.
function ConsentWork({ t: task, link, onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const answer = async (agree) => {
    setBusy(true);
    setError("");
    try {
      const r = await request("POST", `/api/customer/tasks/${task.id}/consent`, { agree }, { Authorization: "Link " + link });
      onDone(r.task);
    } catch (err) {
      setError(plainError(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="consent-work">
    <p class="consent-text">${task.text || task.title}</p>
    <div class="row-actions">
      <button type="button" class="btn btn-primary" data-testid="task-complete" disabled=${busy} onClick=${() => answer(true)}>${t("consent.agree")}</button>
      <button type="button" class="btn" data-testid="task-disagree" disabled=${busy} onClick=${() => answer(false)}>${t("consent.disagree")}</button>
    </div>
    ${error && html`<p class="field-error" role="alert">${error}</p>`}
  </div>`;
}

// TaskWork is a pending task's work area, for the kinds that do work.
export function TaskWork({ t: task, link, sid, name, max, onDone }) {
  const [open, setOpen] = useState(false);
  const done = (task) => {
    announce(t("task.done_named", { title: task.title }));
    setOpen(false);
    onDone(task);
  };
  switch (task.kind) {
  case "sign":
    if (!task.document_id) { return html`<p class="c-task-meta">${t("sign.no_document")}</p>`; }
    return open
      ? html`<${SignWork} t=${task} link=${link} sid=${sid} name0=${name} onDone=${done} onCancel=${() => setOpen(false)} />`
      : html`<button type="button" class="btn btn-primary btn-block" data-testid="task-open" onClick=${() => setOpen(true)}>${t("sign.open")}</button>`;
  case "form":
    return html`<${FormWork} t=${task} link=${link} onDone=${done} />`;
  case "upload":
    return html`<${UploadWork} t=${task} link=${link} max=${max} onDone=${done} />`;
  case "consent":
    return html`<${ConsentWork} t=${task} link=${link} onDone=${done} />`;
  }
  return null;
}

// SignedCopy offers the signed copy: shown in the page (its last page,
// where the signature is) and as a download.
function SignedCopy({ t: task, link, sid, asset, by }) {
  const [show, setShow] = useState(false);
  return html`<div class="c-outcome"><p>${by ? t("outcome.signed_by", { name: by }) : t("outcome.signed")}</p>
    ${asset && html`<div class="row-actions">
      <button type="button" class="btn" data-testid="show-signed" aria-expanded=${show ? "true" : "false"}
        onClick=${() => setShow(!show)}>${t(show ? "outcome.hide_signed" : "outcome.show_signed")}</button>
      <${DownloadButton} link=${link} sid=${sid} asset=${asset} name=${"signed-" + task.title + ".pdf"}
        label=${t("outcome.download")} testid="download-signed" />
    </div>`}
    ${show && html`<${Pdf} link=${link} sid=${sid} asset=${asset} title=${t("outcome.signed_copy", { title: task.title })} last=${true} />`}
  </div>`;
}

// TaskOutcome says what a completed task kept, with its download.
export function TaskOutcome({ t: task, link, sid }) {
  let result = {};
  try { result = typeof task.result === "string" ? JSON.parse(task.result) : (task.result || {}); } catch (e) { /* none */ }
  const asset = (task.assets || [])[0];
  switch (task.kind) {
  case "sign":
    return html`<${SignedCopy} t=${task} link=${link} sid=${sid} asset=${asset} by=${result.signed_by} />`;
  case "upload":
    return html`<p class="c-outcome">${result.file ? t("outcome.sent_file", { file: result.file }) : t("outcome.sent")}</p>`;
  case "form":
    return html`<p class="c-outcome">${t("outcome.answers")}</p>`;
  case "consent":
    return html`<p class="c-outcome">${t(result.agreed ? "outcome.agreed" : "outcome.disagreed")}</p>`;
  }
  return null;
}
