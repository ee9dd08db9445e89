// The secure-link page: confirm, fetch the sealed payload once, open it here with WebCrypto.
//
// Format (rcsec_link::sealed, version 1):
//   header (29 bytes) = "RCSP" | 0x01 | log2(record size) | 7-byte nonce prefix
//                       | HMAC-SHA256(key, "rcsec-sealed/v1/commit" | aad)[..16]
//   aad               = header[..13] | link id (16 bytes) | len(content type) | content type
//   records           = AES-256-GCM(key, nonce = prefix | counter u32 BE | final flag, aad);
//                       every record but the last holds exactly `record size` bytes.
// The key is the fragment parameter k (base64url, 32 bytes). The fragment never leaves the
// browser, so the server holds only ciphertext.
// Items (rcsec_link::sealed::encode_item, version 1) are sealed with content type
// ITEM_TYPE and carry their own file name and MIME type inside the ciphertext:
//   plaintext = "RCSI" | 0x01 | len u8 | name (UTF-8) | len u8 | type (ASCII) | body
// Older links (legacy) were sealed with the item's own type, named by the optional fragment
// parameters t (default text/plain) and n (file name); they still open.
'use strict';

(function () {
  const app = document.getElementById('app');
  const status = document.getElementById('status');
  const go = document.getElementById('go');
  const result = document.getElementById('result');
  const out = document.getElementById('out');
  const meta = document.getElementById('meta');
  const download = document.getElementById('download');
  const expiry = document.getElementById('expiry');

  const MESSAGES = {
    expired: 'This link has expired. Ask the sender for a new one.',
    used: 'This link has already been used. Each link opens once; ask the sender for a new one if that was not you.',
    revoked: 'This link has been revoked (the alert was resolved or the link withdrawn).',
    invalid: 'This link is not valid. Check that you opened the whole link.',
    mismatch: 'This link cannot be opened from this device or network.',
    unavailable: 'The link service is temporarily unavailable. Try again in a minute.',
    nokey: 'This link is incomplete: the key part after "#" is missing or damaged. Open the whole link from the message.',
    corrupt: 'The item could not be decrypted: the link or the stored item is damaged. Nothing was shown.',
    network: 'The item could not be fetched. Check your connection and try again.'
  };

  function show(state, text) {
    status.dataset.state = state;
    status.textContent = text || MESSAGES[state] || MESSAGES.unavailable;
    app.dataset.state = state;
  }

  function b64uDecode(s) {
    if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('bad base64url');
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  }

  function hexDecode(s) {
    if (!/^([0-9a-f]{2})*$/.test(s)) throw new Error('bad hex');
    const bytes = new Uint8Array(s.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(s.substr(i * 2, 2), 16);
    return bytes;
  }

  function concat(parts) {
    let len = 0;
    for (const p of parts) len += p.length;
    const outBytes = new Uint8Array(len);
    let off = 0;
    for (const p of parts) { outBytes.set(p, off); off += p.length; }
    return outBytes;
  }

  function fragmentParams() {
    const params = {};
    for (const pair of location.hash.replace(/^#/, '').split('&')) {
      const eq = pair.indexOf('=');
      if (eq > 0) params[pair.slice(0, eq)] = decodeURIComponent(pair.slice(eq + 1));
    }
    return params;
  }

  function keyFromFragment() {
    try {
      const k = fragmentParams().k;
      if (typeof k !== 'string' || k.length !== 43) return null;
      const key = b64uDecode(k);
      return key.length === 32 ? key : null;
    } catch (e) {
      return null;
    }
  }

  const ITEM_TYPE = 'application/vnd.rcsec.item';
  const NAME_RE = /^[^\/\\\x00-\x1f\x7f]{1,200}$/;
  const TYPE_RE = /^[\x20-\x7e]{1,255}$/;

  // Splits an opened item into its name, type and body; throws on anything malformed.
  function parseItem(plain) {
    if (plain.length < 7 || plain[0] !== 0x52 || plain[1] !== 0x43 || plain[2] !== 0x53 ||
        plain[3] !== 0x49 || plain[4] !== 1) throw new Error('bad item');
    let off = 5;
    const nameLen = plain[off++];
    if (off + nameLen + 1 > plain.length) throw new Error('bad item');
    const name = new TextDecoder('utf-8', { fatal: true }).decode(plain.subarray(off, off + nameLen));
    off += nameLen;
    const typeLen = plain[off++];
    if (off + typeLen > plain.length) throw new Error('bad item');
    const contentType = String.fromCharCode.apply(null, plain.subarray(off, off + typeLen));
    off += typeLen;
    if (!NAME_RE.test(name) || !TYPE_RE.test(contentType)) throw new Error('bad item');
    return { name: name, contentType: contentType, body: plain.subarray(off) };
  }

  // An item when the payload is one (its commitment names ITEM_TYPE), else the legacy
  // reading with the fragment's type and name. Any other failure propagates.
  async function openItem(key, linkId, data) {
    if (typeof fragmentParams().t !== 'string') {
      try {
        return parseItem(await openSealed(key, linkId, ITEM_TYPE, data));
      } catch (e) {
        if (e.message !== 'wrong context') throw e;
      }
    }
    const contentType = contentTypeFromFragment();
    return { name: fileNameFromFragment(), contentType: contentType,
      body: await openSealed(key, linkId, contentType, data) };
  }

  function contentTypeFromFragment() {
    const t = fragmentParams().t;
    return typeof t === 'string' && TYPE_RE.test(t) ? t : 'text/plain';
  }

  function fileNameFromFragment() {
    const n = fragmentParams().n;
    // Only a plain file name: no path separators, no control characters.
    return typeof n === 'string' && NAME_RE.test(n) ? n : 'alert-item';
  }

  // Opens a sealed payload; throws on any mismatch (wrong key, link, type, tampering, cut).
  async function openSealed(keyBytes, linkId, contentType, data) {
    const HEADER = 29, FIXED = 13, TAG = 16;
    if (data.length < HEADER + TAG) throw new Error('truncated');
    if (data[0] !== 0x52 || data[1] !== 0x43 || data[2] !== 0x53 || data[3] !== 0x50 ||
        data[4] !== 1 || data[5] !== 16) throw new Error('bad header');
    const recordSize = 1 << data[5];
    const ct = new TextEncoder().encode(contentType);
    const aad = concat([data.subarray(0, FIXED), linkId, new Uint8Array([ct.length]), ct]);
    const macKey = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', macKey,
      concat([new TextEncoder().encode('rcsec-sealed/v1/commit'), aad])));
    let diff = 0;
    for (let i = 0; i < 16; i++) diff |= mac[i] ^ data[FIXED + i];
    if (diff !== 0) throw new Error('wrong context');
    const aesKey = await crypto.subtle.importKey('raw', keyBytes, 'AES-GCM', false, ['decrypt']);
    const prefix = data.subarray(6, FIXED);
    const parts = [];
    let off = HEADER;
    for (let counter = 0; ; counter++) {
      const remaining = data.length - off;
      const full = recordSize + TAG;
      let last;
      if (remaining > full) last = false;
      else if (remaining < full && remaining >= TAG) last = true;
      else throw new Error('truncated');
      const len = last ? remaining : full;
      const nonce = new Uint8Array(12);
      nonce.set(prefix, 0);
      new DataView(nonce.buffer).setUint32(7, counter, false);
      nonce[11] = last ? 1 : 0;
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 },
        aesKey, data.subarray(off, off + len));
      parts.push(new Uint8Array(plain));
      off += len;
      if (last) break;
    }
    return concat(parts);
  }

  async function confirmAndOpen() {
    const key = keyFromFragment();
    if (!key) { show('nokey'); return; }
    go.disabled = true;
    let response;
    try {
      response = await fetch(location.pathname, { method: 'POST', credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' });
    } catch (e) {
      go.disabled = false;
      show('network');
      return;
    }
    if (!response.ok) {
      let state = 'unavailable';
      try { state = (await response.json()).error || state; } catch (e) { /* keep default */ }
      go.hidden = true;
      show(state);
      out.dataset.done = '1';
      return;
    }
    go.hidden = true;
    try {
      const linkId = hexDecode(response.headers.get('x-link-id') || app.dataset.linkId);
      const data = new Uint8Array(await response.arrayBuffer());
      const item = await openItem(key, linkId, data);
      const plain = item.body;
      const contentType = item.contentType;
      const name = item.name;
      meta.textContent = name + ' (' + contentType + ', ' + plain.length + ' bytes)';
      if (contentType.startsWith('text/')) {
        out.textContent = new TextDecoder('utf-8', { fatal: false }).decode(plain);
      } else {
        out.hidden = true;
      }
      download.href = URL.createObjectURL(new Blob([plain], { type: 'application/octet-stream' }));
      download.download = name;
      download.textContent = 'Download ' + name;
      download.hidden = false;
      result.hidden = false;
      show('opened', 'Opened. This link is now used up; keep this page open while you need the item.');
    } catch (e) {
      show('corrupt');
    }
    out.dataset.done = '1';
  }

  if (app.dataset.state === 'valid') {
    if (!keyFromFragment()) {
      show('nokey');
    } else {
      go.hidden = false;
      go.addEventListener('click', confirmAndOpen);
    }
    const expires = Number(app.dataset.expires);
    if (expires > 0) {
      expiry.textContent = 'Expires ' + new Date(expires * 1000).toLocaleString() + '.';
      expiry.hidden = false;
    }
  }
}());
