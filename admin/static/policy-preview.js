// Live preview for the policy editor (progressive enhancement: without this script the
// "Preview" button does the same). The server renders and sanitises; this only asks it,
// at most every 400 ms while typing, and shows the HTML it returns.
(function () {
  const form = document.querySelector('form.editor');
  const body = document.getElementById('body');
  const target = document.querySelector('.preview .policy');
  if (!form || !body || !target) return;
  const url = form.getAttribute('data-preview-url');
  const token = form.querySelector('input[name="csrf_token"]').value;
  let timer = null;
  let latest = 0;
  body.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const asked = ++latest;
      const data = new URLSearchParams({ csrf_token: token, body: body.value });
      fetch(url, { method: 'POST', body: data, credentials: 'same-origin' })
        .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
        .then((html) => { if (asked === latest) target.innerHTML = html; })
        .catch(() => {}); // the Preview button still works
    }, 400);
  });
}());
