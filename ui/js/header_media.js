// A template's media header (image, video or document) takes a public https link, or a file
// uploaded now through the bridge: its media id then goes with the template. Used by the
// composer's template form and by the campaign form.

import { h } from './dom.js';
import { api, errorText } from './api.js';

/** What each header format takes (the desktop checks the file again before uploading). */
const ACCEPT = {
  image: 'image/jpeg,image/png',
  video: 'video/mp4,video/3gpp',
  document: 'application/pdf,text/plain,.doc,.docx,.xls,.xlsx,.ppt,.pptx',
};

/**
 * "…or upload the image instead" beside `linkInput`. `phoneNumberId()` names the number the
 * file is for; `onChange(mediaId)` hears the uploaded file's id (null when none).
 */
export function headerUpload({ kind, phoneNumberId, linkInput, onChange }) {
  const picker = h('input', { type: 'file', hidden: true, accept: ACCEPT[kind] || '', 'data-testid': 'header-file' });
  const status = h('span', { class: 'muted', 'data-testid': 'header-file-status' });
  const button = h('button', { type: 'button', class: 'link-button', 'data-testid': 'header-upload',
    text: `…or upload the ${kind} instead`, onclick: () => picker.click() });
  picker.addEventListener('change', async () => {
    const file = picker.files[0];
    picker.value = '';
    if (!file) return;
    button.disabled = true;
    status.textContent = `Uploading ${file.name}…`;
    onChange(null);
    try {
      const id = await api.uploadHeaderFile(phoneNumberId(), file, kind);
      linkInput.value = '';
      linkInput.disabled = true;
      status.textContent = `📎 ${file.name} uploaded`;
      onChange(id);
    } catch (e) {
      linkInput.disabled = false;
      status.textContent = errorText(e);
    } finally {
      button.disabled = false;
    }
  });
  return h('div', { class: 'header-upload' }, button, picker, status);
}
